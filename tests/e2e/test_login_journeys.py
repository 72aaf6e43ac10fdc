"""Each demo persona signs in, lands where their work is, and signs out."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

GENERIC_LOGIN_ERROR = "That username and password did not match. Try again."


@pytest.mark.parametrize(
    ("username", "name", "role"),
    [
        ("admin", "Ada Admin", "admin"),
        ("manager", "Morgan Manager", "manager"),
        ("responder", "Riley Responder", "responder"),
        ("comms", "Casey Comms", "comms"),
    ],
)
def test_staff_member_signs_in_to_the_dashboard_and_signs_out(page, site, demo_data, sign_in, sign_out, screenshot,
                                                              username, name, role):
    sign_in(page, username, demo_data)

    expect(page).to_have_url(f"{site}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    whoami = page.locator(".whoami")
    expect(whoami).to_contain_text(name)
    expect(whoami).to_contain_text(role)
    expect(page.get_by_role("heading", name="Cases per stage")).to_be_visible()
    expect(page.get_by_role("heading", name="Breaches and running clocks")).to_be_visible()
    # The demo breach's customer-notice clock is running, so it is on every staff dashboard.
    expect(page.get_by_text("Customer notice").first).to_be_visible()
    nav = page.get_by_role("navigation", name="Main")
    if role == "comms":
        expect(nav.get_by_role("link", name="Open a case")).to_have_count(0)
    else:
        expect(nav.get_by_role("link", name="Open a case")).to_be_visible()
    expect(nav.get_by_role("link", name="Admin")).to_have_count(1 if role == "admin" else 0)
    screenshot(page, f"login-{username}-dashboard")

    sign_out(page)
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.goto(f"{site}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))


@pytest.mark.parametrize(
    ("username", "organization", "other"),
    [("customer-contoso", "Contoso", "Fabrikam"), ("customer-fabrikam", "Fabrikam", "Contoso")],
)
def test_customer_signs_in_to_their_portal_and_signs_out(page, site, demo_data, sign_in, sign_out, screenshot,
                                                         username, organization, other):
    sign_in(page, username, demo_data)

    expect(page).to_have_url(f"{site}/portal/")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Security incidents affecting {organization}")
    expect(page.locator(".topbar")).to_contain_text(f"Security incidents · {organization}")
    # No staff navigation and nothing about another customer.
    expect(page.get_by_role("link", name="Dashboard")).to_have_count(0)
    expect(page.get_by_role("link", name="Cases")).to_have_count(0)
    expect(page.locator("body")).not_to_contain_text(other)
    screenshot(page, f"login-{username}-portal")

    # The staff dashboard sends a customer back to their portal.
    page.goto(f"{site}/")
    expect(page).to_have_url(f"{site}/portal/")

    sign_out(page)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.goto(f"{site}/portal/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/portal/$"))


def test_wrong_password_gets_a_message_that_does_not_say_whether_the_user_exists(page, site, demo_data, sign_in,
                                                                                   screenshot):
    sign_in(page, "manager", "not-the-password")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    error = page.locator(".messages .error")
    expect(error).to_have_text(GENERIC_LOGIN_ERROR)
    # The username stays filled in so the person only retypes the password.
    expect(page.get_by_label("Username")).to_have_value("manager")
    expect(page.get_by_label("Password")).to_have_value("")
    screenshot(page, "login-wrong-password")
    known_user_page = page.locator("main").inner_text()

    sign_in(page, "nobody-by-this-name", "not-the-password")
    expect(error).to_have_text(GENERIC_LOGIN_ERROR)
    unknown_user_page = page.locator("main").inner_text()

    assert known_user_page.replace("manager", "") == unknown_user_page.replace("nobody-by-this-name", "")
    for telltale in ("exist", "unknown", "not found", "no such", "inactive"):
        assert telltale not in unknown_user_page.lower()
    # Still signed out.
    page.goto(f"{site}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
