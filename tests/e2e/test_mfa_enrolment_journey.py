"""A new responder's first sign-in: enrol an authenticator from the QR page, keep the backup codes."""

import pytest
from playwright.sync_api import expect

from tests.factories import StaffFactory
from tests.mfa import totp_now

pytestmark = pytest.mark.e2e


def test_new_responder_enrols_an_authenticator_and_then_signs_in_with_a_backup_code(page, site, demo_data, sign_out, screenshot):
    StaffFactory(username="new-responder", first_name="Noor")
    page.goto(f"{site}/accounts/login/")
    page.get_by_label("Username").fill("new-responder")
    page.get_by_label("Password").fill("correct-horse-battery-staple")
    page.get_by_role("button", name="Sign in").click()

    # Staff cannot reach any staff page before enrolling.
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up two-factor sign-in")
    qr = page.get_by_role("img", name="QR code for your authenticator app")
    expect(qr).to_be_visible()
    expect(qr).to_have_js_property("complete", True)
    assert page.evaluate("img => img.naturalWidth", qr.element_handle()) > 0, "the QR code did not load"
    screenshot(page, "mfa-01-enrolment")
    page.goto(f"{site}/cases/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up two-factor sign-in")

    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    page.get_by_label("Code").fill("000000" if totp_now(secret) != "000000" else "111111")
    page.get_by_role("button", name="Turn on").click()
    expect(page.locator("body")).to_contain_text("That code did not match")

    # django-otp throttles the next try for a second after a wrong code; a person types slower.
    page.wait_for_timeout(1_100)
    page.get_by_label("Code").fill(totp_now(secret))
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your backup codes")
    codes = page.locator(".backup-codes li").all_inner_texts()
    assert len(codes) == 10 and len(set(codes)) == 10
    screenshot(page, "mfa-02-backup-codes")
    page.get_by_role("link", name="Continue").click()
    # Back to the page asked for before enrolment.
    expect(page.get_by_role("heading", level=1)).to_have_text("Cases")
    sign_out(page)

    # Phone lost: a backup code works once.
    for attempt in ("first", "second"):
        page.goto(f"{site}/accounts/login/")
        page.get_by_label("Username").fill("new-responder")
        page.get_by_label("Password").fill("correct-horse-battery-staple")
        page.get_by_role("button", name="Sign in").click()
        page.get_by_label("Code").fill(codes[0])
        page.get_by_role("button", name="Verify").click()
        if attempt == "first":
            expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
            sign_out(page)
        else:
            expect(page.locator("body")).to_contain_text("did not work")
            screenshot(page, "mfa-03-backup-code-used-twice")
