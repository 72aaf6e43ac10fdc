"""axe-core finds no WCAG 2.0/2.1 A or AA violation on any page of ours, for any persona.

axe-core is vendored from its npm package (``tests/e2e/vendor/axe-core/``, see its README) and
injected into each page through DevTools evaluation, which the site's strict
Content-Security-Policy (no inline or foreign script) does not govern. The pages come from the URL
modules (``irt/urls.py``, ``cases/urls/``, ``notifications/urls.py``): every GET page that renders
HTML for a person, in the states the demo data and a few extra steps give (a case in each stage,
forms showing their errors). Django's admin is not ours and is left out; feeds, PDFs, CSV and JSON
are not pages.

All pages are checked and the violations of every page are reported together, each with its rule,
impact, the elements and axe's explanation, so one run shows everything to fix.
"""

from pathlib import Path

from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

import pytest
from playwright.sync_api import expect

from cases.models import AlertGroup, Case, IncidentUpdate, Observable, Organization, Playbook, PublishedReview, User
from cases.services import breach, communications
from notifications.models import Delivery
from notifications.services.webhooks import create_endpoint
from tests.e2e.conftest import TOTP_SECRET
from tests.mfa import totp_now

pytestmark = pytest.mark.e2e

AXE_SOURCE = (Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js").read_text()
WCAG_A_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}

RUN_AXE = """async ([tags, exclude]) => {
  const context = exclude.length ? {include: [document], exclude: exclude.map((selector) => [selector])} : document;
  const results = await axe.run(context, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
  return results.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map((n) => ({target: n.target.join(" "), html: n.html.slice(0, 200), summary: n.failureSummary})),
  }));
}"""


class Audit:
    """Run axe on pages as they are opened and keep every violation, by page."""

    def __init__(self, page, site, screenshot):
        self.page, self.site, self.screenshot = page, site, screenshot
        self.checked: list[str] = []
        self.failures: list[str] = []

    def check(self, name: str, path: str | None = None, *, status: int = 200, exclude: tuple[str, ...] = ()) -> None:
        """Open ``path`` (or stay on the current page) and record axe's violations under ``name``.

        ``exclude``: selectors of third-party widgets that are not ours to fix (each use says which and why).
        """
        if path is not None:
            response = self.page.goto(f"{self.site}{path}")
            assert response is not None and response.status == status, f"{name}: {path} answered {response and response.status}"
        self.page.wait_for_load_state("domcontentloaded")
        if not self.page.evaluate("typeof window.axe !== 'undefined'"):
            self.page.evaluate(AXE_SOURCE)
        violations = self.page.evaluate(RUN_AXE, [WCAG_A_AA, list(exclude)])
        self.checked.append(name)
        if violations:
            self.screenshot(self.page, f"a11y-{name}")
            lines = [f"{name} ({self.page.url}):"]
            for violation in violations:
                lines.append(f"  [{violation['impact']}] {violation['id']}: {violation['help']} ({violation['helpUrl']})")
                for node in violation["nodes"][:6]:
                    lines.append(f"      at {node['target']}: {node['html']}")
                    lines.append("        " + node["summary"].replace("\n", "\n        "))
            self.failures.append("\n".join(lines))

    def assert_clean(self) -> None:
        assert not self.failures, f"axe found WCAG A/AA violations on {len(self.failures)} of {len(self.checked)} pages:\n\n" + "\n\n".join(self.failures)


@pytest.fixture
def audit(page, site, screenshot):
    page.set_viewport_size(DESKTOP)
    return Audit(page, site, screenshot)


def _demo_cases() -> dict[str, Case]:
    """Return a demo case in each stage the demo data reaches."""
    return {stage: Case.objects.filter(status=stage).order_by("pk").first() for stage in Case.Status.values}


def test_public_and_sign_in_pages_have_no_wcag_violations(page, site, demo_data, audit):
    review = PublishedReview.objects.published().get(audience=PublishedReview.Audience.PUBLIC)
    audit.check("sign-in", "/accounts/login/")
    page.get_by_label("Username").fill("manager")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    audit.check("sign-in-refused")
    audit.check("password-reset", "/accounts/password-reset/")
    audit.check("password-reset-sent", "/accounts/password-reset/sent/")
    audit.check("password-reset-bad-link", "/accounts/reset/MQ/not-a-token/")
    audit.check("password-reset-done", "/accounts/reset/done/")
    user = User.objects.get(username="customer-contoso")
    audit.check("password-reset-new-password",
                f"/accounts/reset/{urlsafe_base64_encode(force_bytes(user.pk))}/{default_token_generator.make_token(user)}/")
    audit.check("not-found", "/lessons/no-such-lesson/", status=404)
    for _attempt in range(6):
        page.goto(f"{site}/accounts/login/")
        page.get_by_label("Username").fill("nobody-here")
        page.get_by_label("Password").fill("wrong")
        page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Signing in is paused")).to_be_visible()
    audit.check("signing-in-paused")
    audit.check("lessons", "/lessons/")
    audit.check("lesson", review.get_absolute_url())
    audit.check("scorecard", "/lessons/scorecard/")
    audit.assert_clean()


def test_staff_pages_have_no_wcag_violations(page, site, demo_data, sign_in, audit):
    cases = _demo_cases()
    breach_case = Case.objects.get(breach_declared_at__isnull=False)
    # A draft waiting for approval, so the review page shows the diff and the recipients.
    draft = communications.draft_update(
        case=breach_case, by=User.objects.get(username="responder"), status="monitoring",
        public_title="Unauthorised read access to some Object Storage buckets",
        what_happened="A faulty access-policy rollout let another account read objects.",
        what_we_know="The reads stopped at 05:40 UTC.", what_we_are_doing="Monitoring.", what_you_should_do="Nothing more.",
        affected_services="Object Storage",
    )
    published = IncidentUpdate.objects.filter(case=breach_case, published_at__isnull=False).first()
    closed = cases[Case.Status.CLOSED]
    group = AlertGroup.objects.order_by("pk").first()
    observable = Observable.objects.order_by("pk").first()
    playbook = Playbook.objects.order_by("pk").first()
    delivery = Delivery.objects.exclude(channel=Delivery.Channel.INBOX).order_by("pk").first()

    # The second-factor page, on the way in.
    page.goto(f"{site}/accounts/login/")
    page.get_by_label("Username").fill("manager")
    page.get_by_label("Password").fill(demo_data)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_label("Code")).to_be_visible()
    audit.check("two-factor")
    page.get_by_label("Code").fill(totp_now(TOTP_SECRET))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_load_state("domcontentloaded")

    audit.check("dashboard", "/")
    audit.check("case-list", "/cases/")
    audit.check("case-list-filtered", "/cases/?stage=closed&severity=medium&sort=-detected_at")
    audit.check("search", f"/cases/search/?q={breach_case.reference}")
    audit.check("search-nothing", "/cases/search/?q=zzzz-nothing")
    audit.check("case-new", "/cases/new/")
    page.get_by_role("button", name="Open case").click()
    audit.check("case-new-with-errors")
    for stage, case in cases.items():
        if case is not None:
            audit.check(f"case-{stage}", case.get_absolute_url())
    audit.check("case-breach", breach_case.get_absolute_url())
    audit.check("case-edit", f"{breach_case.get_absolute_url()}edit/")
    audit.check("declare-breach-blocked", f"{cases[Case.Status.DIAGNOSING].get_absolute_url()}declare-breach/")
    breach.add_affected_customer(case=cases[Case.Status.DIAGNOSING], by=User.objects.get(username="manager"),
                                 organization=Organization.objects.get(slug="fabrikam"), data_altered=True,
                                 impact_statement="Build artefacts of Fabrikam were altered.")
    audit.check("declare-breach", f"{cases[Case.Status.DIAGNOSING].get_absolute_url()}declare-breach/")
    page.get_by_label("What makes this a breach").fill("Altered artefacts signed with Fabrikam's key.")
    page.get_by_label("I confirm: start the customer-notice clock now.").check()
    page.get_by_role("button", name="Declare breach and start the clock").click()
    expect(page.locator(".errorlist")).to_be_visible()
    audit.screenshot(page, "a11y-declare-breach-asks")
    audit.check("declare-breach-asks")
    audit.check("evidence", f"{breach_case.get_absolute_url()}evidence/")
    audit.check("update-new", f"{breach_case.get_absolute_url()}updates/new/")
    if published is not None:
        audit.check("update-correction", f"{breach_case.get_absolute_url()}updates/new/?corrects={published.pk}")
    audit.check("update-review", f"{breach_case.get_absolute_url()}updates/{draft.pk}/")
    audit.check("internal-review-edit", f"{breach_case.get_absolute_url()}review/")
    audit.check("internal-review-read", f"{closed.get_absolute_url()}review/read/")
    audit.check("customer-review-edit", f"{breach_case.get_absolute_url()}customer-review/")
    audit.check("customer-review-read", f"{closed.get_absolute_url()}customer-review/read/")
    audit.check("alerts", "/alerts/")
    if group is not None:
        audit.check("alert-group", f"/alerts/groups/{group.pk}/")
    if observable is not None:
        audit.check("observable", f"/alerts/observables/{observable.pk}/")
    audit.check("playbooks", "/playbooks/")
    audit.check("playbook", f"/playbooks/{playbook.slug}/")
    audit.check("playbook-edit", f"/playbooks/{playbook.slug}/edit/")
    audit.check("playbook-new", "/playbooks/new/")
    audit.check("metrics", "/metrics/")
    audit.check("metrics-cases", page.locator("a[href*='/metrics/cases/']").first.get_attribute("href"))
    audit.check("inbox", "/inbox/")
    audit.check("deliveries", "/inbox/deliveries/")
    audit.check("deliveries-of-case", f"/inbox/deliveries/?case={breach_case.reference}")
    if delivery is not None:
        audit.check("delivery", f"/inbox/deliveries/{delivery.pk}/")
    audit.check("api-tokens", "/accounts/tokens/")
    # On a phone, tables scroll in their own box: each such box must take the keyboard focus.
    page.set_viewport_size(PHONE)
    for name, path in {"dashboard": "/", "case-list": "/cases/", "case-breach": breach_case.get_absolute_url(),
                       "evidence": f"{breach_case.get_absolute_url()}evidence/", "alerts": "/alerts/", "metrics": "/metrics/",
                       "inbox": "/inbox/", "deliveries": "/inbox/deliveries/", "playbooks": "/playbooks/"}.items():
        audit.check(f"phone-{name}", path)
    page.set_viewport_size(DESKTOP)
    page.goto(f"{site}{breach_case.get_absolute_url()}")
    with page.expect_popup() as popup:
        page.get_by_role("button", name="Case report (HTML)").click()
    report = popup.value
    report.wait_for_load_state()
    audit.page = report
    audit.check("case-report")
    report.close()
    audit.page = page
    page.goto(f"{site}/api/v1/docs/")
    page.locator("#swagger-ui .info").wait_for()
    # Swagger UI's own rendering (drf-spectacular's bundle) has low-contrast method badges and buttons nested in
    # buttons, upstream in swagger-ui; the page around it (language, title) is ours.
    audit.check("api-docs", exclude=("#swagger-ui",))
    audit.check("two-factor-manage", "/accounts/two-factor/setup/")
    page.locator("form[action$='/two-factor/backup-codes/'] button").click()
    audit.check("backup-codes")
    audit.assert_clean()


def test_customer_pages_have_no_wcag_violations(page, site, demo_data, sign_in, audit):
    breach_case = Case.objects.get(breach_declared_at__isnull=False)
    endpoint, _secret = create_endpoint(organization=User.objects.get(username="contoso-admin").organization,
                                        url="https://hooks.contoso.example/irt", description="SOAR")

    sign_in(page, "customer-contoso")
    audit.check("portal", "/portal/")
    page.set_viewport_size(PHONE)
    audit.check("phone-portal-incident", f"/portal/incidents/{breach_case.reference}/")
    page.set_viewport_size(DESKTOP)
    audit.check("portal-incident", f"/portal/incidents/{breach_case.reference}/")
    audit.check("customer-inbox", "/inbox/")
    audit.check("customer-preferences", "/inbox/preferences/")
    audit.check("customer-two-factor-setup", "/accounts/two-factor/setup/")
    audit.check("forbidden", "/portal/organisation/", status=403)
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, "contoso-admin")
    audit.check("organisation", "/portal/organisation/")
    audit.check("webhooks", "/inbox/webhooks/")
    audit.check("webhook", f"/inbox/webhooks/{endpoint.pk}/")
    audit.assert_clean()


def test_the_audit_finds_violations_when_there_are_some(page, site, screenshot):
    """The harness is not vacuous: axe, injected the same way, reports a page without a language or alt text."""
    audit = Audit(page, site, screenshot)
    page.set_content("<html><body><main><img src='data:,'><input type='text'></main></body></html>")
    audit.check("known-bad")
    assert audit.failures and all(rule in audit.failures[0] for rule in ("html-has-lang", "image-alt", "label"))
