"""Browser journeys: Debian's Chromium driven by Playwright against pytest-django's live server.

The tests skip, with the reason, only when the Chromium binary is missing (``/usr/bin/chromium``
or the path in ``IRT_CHROMIUM``). Screenshots of the key pages land in
``test-artifacts/screenshots/`` (git-ignored), named after the journey and the step.
"""

import os
from io import StringIO
from pathlib import Path

import pytest
from playwright.sync_api import expect

from cases.access.roles import ensure_teams
from django.core.management import call_command

# Playwright's sync API runs an event loop in the main thread, so Django sees every ORM call
# from the test (fixtures, assertions) as made from async code and refuses it without this.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path(os.environ.get("IRT_CHROMIUM") or "/usr/bin/chromium")
PASSWORD = "e2e-demo-password-7f3a"
# Every demo staff user's authenticator holds this secret (seed_demo --totp-secret).
TOTP_SECRET = "KRUGS4ZANFZSAYLOEBSTENDFEBQXK5DI"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
E2E_DIR = Path(__file__).resolve().parent

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(config, items):
    """Mark the browser journeys ``e2e``; skip them, saying why, when Chromium is absent."""
    skip = pytest.mark.skip(reason=f"Chromium not found at {CHROMIUM} (install it or set IRT_CHROMIUM)")
    for item in items:
        if E2E_DIR not in Path(str(item.path)).parents:
            continue
        item.add_marker(pytest.mark.e2e)
        if not CHROMIUM.exists():
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Launch the system Chromium: Playwright's own browser downloads are never used here."""
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": CHROMIUM_ARGS,
        "timeout": 30_000,
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}, "locale": "en-GB", "timezone_id": "UTC"}


@pytest.fixture
def page(page):
    """Fail fast: a missing element is a failure in seconds, not after Playwright's 30 s default."""
    page.set_default_timeout(8_000)
    page.set_default_navigation_timeout(15_000)
    return page


@pytest.fixture
def demo_data(transactional_db, live_server):
    """Load the demo data through ``seed_demo``, as a fresh install does.

    The live server runs in another thread, so the data must be committed (``transactional_db``).
    The flush after a transactional test may drop the teams and permissions the migrations
    created, so they are ensured first. (``serialized_rollback`` cannot do it here: once
    Playwright's sync API runs, Django hands the test a new connection object, which lacks the
    contents serialized when the test database was created by an earlier test.)
    """
    ensure_teams()
    call_command("seed_demo", password=PASSWORD, totp_secret=TOTP_SECRET, stdout=StringIO())
    return PASSWORD


@pytest.fixture
def screenshot():
    """Return ``screenshot(page, name)``: save the whole page as ``test-artifacts/screenshots/<name>.png``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def site(live_server):
    """Return the live server's base URL, without a trailing slash."""
    return live_server.url.rstrip("/")


@pytest.fixture
def sign_in(site):
    """Return ``sign_in(page, username, password)``: use the login form the way a person does.

    Staff are then asked for their second factor; the code comes from the demo TOTP secret, as
    an authenticator app would show it.
    """
    from tests.mfa import totp_now

    used_codes = set()

    def sign_in(page, username: str, password: str = PASSWORD) -> None:
        page.goto(f"{site}/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state("domcontentloaded")
        if "/accounts/two-factor/" in page.url:
            # A code is accepted once; a second sign-in within the same 30 s takes the next one.
            code = totp_now(TOTP_SECRET)
            if (username, code) in used_codes:
                code = totp_now(TOTP_SECRET, offset_steps=1)
            used_codes.add((username, code))
            page.get_by_label("Code").fill(code)
            page.get_by_role("button", name="Verify").click()
            page.wait_for_load_state("domcontentloaded")

    return sign_in


@pytest.fixture
def sign_out():
    """Return ``sign_out(page)``: press the Sign out button in the top bar."""

    def sign_out(page) -> None:
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_load_state("domcontentloaded")

    return sign_out


@pytest.fixture
def open_case_as(site, sign_in):
    """Return ``open_case_as(page, username, reference)``: sign in as a demo user and open the case page."""

    def open_case_as(page, username: str, reference: str) -> None:
        sign_in(page, username)
        page.goto(f"{site}/cases/{reference}/")

    return open_case_as


@pytest.fixture
def fill_form():
    """Return ``fill_form(page, fields)``: type each value into the text field labelled with its key."""

    def fill_form(page, fields: dict[str, str]) -> None:
        for label, text in fields.items():
            page.get_by_label(label).fill(text)

    return fill_form


@pytest.fixture
def fill_affected_customer():
    """Return ``fill_affected_customer(page, organisation, impact)``: fill the case page's "add" form.

    The organisation's data is marked disclosed. Return the "Affected customers" region, whose
    "Add customer" button the journey presses itself (what it then expects depends on who adds).
    """

    def fill_affected_customer(page, organisation: str, impact: str):
        customers = page.get_by_role("region", name="Affected customers")
        customers.get_by_text("Add an affected customer").click()
        customers.get_by_label("Organisation").select_option(label=organisation)
        customers.get_by_label("Data disclosed").check()
        customers.get_by_label("Impact statement").fill(impact)
        return customers

    return fill_affected_customer


def _next_action(page, label: str):
    return page.get_by_role("region", name="Next actions").locator(".action").filter(has=page.get_by_role("button", name=label))


@pytest.fixture
def next_action():
    """Return ``next_action(page, label)``: the action card in "Next actions" whose button reads ``label``."""
    return _next_action


@pytest.fixture
def expect_blocked():
    """Return ``expect_blocked(page, label, reasons)``: the action is offered disabled and lists each reason."""

    def expect_blocked(page, label: str, reasons: list[str]) -> None:
        action = _next_action(page, label)
        expect(action.get_by_role("button", name=label)).to_be_disabled()
        for reason in reasons:
            expect(action.locator(".reasons")).to_contain_text(reason)

    return expect_blocked
