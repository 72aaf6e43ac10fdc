"""A responder promotes a waiting alert group to a case from the triage queue."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

WAITING = "Root user disabled S3 Block Public Access"


def test_responder_promotes_an_alert_group_to_a_case(page, site, demo_data, sign_in, screenshot):
    sign_in(page, "responder", demo_data)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Alerts").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Alert triage")
    queue = page.locator("table")
    expect(queue).to_contain_text(WAITING)
    # The promoted demo group has left the queue.
    expect(queue).not_to_contain_text("Mass download from a storage account by a new IP")
    screenshot(page, "alert-triage-01-queue")

    page.get_by_role("link", name=WAITING).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(WAITING)
    alerts = page.get_by_role("region", name="Alerts (2)")
    expect(alerts).to_contain_text("Console sign-in from an anonymising proxy")
    expect(page.get_by_role("region", name="Candidate affected customers")).to_contain_text("Fabrikam")
    screenshot(page, "alert-triage-02-group")

    page.get_by_role("button", name="Promote to a new case").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(WAITING)
    expect(page.locator(".messages")).to_contain_text("opened from 2 alert(s)")
    panel = page.get_by_role("region", name="Alerts and observables")
    expect(panel).to_contain_text("Console sign-in from an anonymising proxy")
    expect(panel).to_contain_text("198.51.100.23")
    expect(panel).to_contain_text("Fabrikam")
    expect(page.locator(".stagebar [aria-current=step]")).to_have_text("Detected")
    screenshot(page, "alert-triage-03-new-case")
