"""Issue 16, items 7 and 2 in the browser: the incident's times from the case to the customer, and their email choice.

A manager drafts an update that starts from the times the demo's published update states
(``seed_demo``), corrects when the impact started and promises the next update (the case's own
times reach a draft only where the last update gave none: ``tests/cases/views/test_incident_page_times.py``);
Communications sees both before approving; Contoso reads the impact window, the detection time
and "Next update by" on its incident page (at 1366 and 390 px) and turns this incident's follow-up
emails off; Fabrikam can neither read the page nor choose for it.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from cases.models import Case, IncidentUpdate, Organization
from notifications.models import Subscription
from tests.e2e import test_review_journey as review_journey
from tests.e2e.test_review_journey import DESKTOP, PHONE

pytestmark = pytest.mark.e2e


def fits_a_phone(page, name):
    page.set_viewport_size(PHONE)
    width = page.evaluate("document.documentElement.scrollWidth")
    page.set_viewport_size(DESKTOP)
    assert width <= PHONE["width"], f"{name} scrolls sideways on a phone ({width} px)"


def both_widths(page, screenshot, name):
    """Save the page at 1366 and 390 px (``test_review_journey.both_widths``) and check it fits the phone."""
    review_journey.both_widths(page, screenshot, name)
    fits_a_phone(page, name)


def test_the_customer_reads_when_it_started_was_detected_and_when_the_next_update_comes(
    page, site, demo_data, sign_in, sign_out, open_case_as, screenshot
):
    page.on("dialog", lambda dialog: dialog.accept())
    contoso, fabrikam = Organization.objects.get(slug="contoso"), Organization.objects.get(slug="fabrikam")
    case = (Case.objects.filter(breach_declared_at__isnull=False, affected_customers__organization=contoso)
            .exclude(affected_customers__organization=fabrikam).first())
    promise = (timezone.now() + timedelta(days=2)).replace(second=0, microsecond=0)
    seeded = IncidentUpdate.objects.published().filter(case=case).latest("published_at")
    page.set_viewport_size(DESKTOP)

    # -- The draft starts from the last update's times; the manager corrects the start and promises the next update.
    open_case_as(page, "manager", case.reference)
    page.goto(f"{site}/cases/{case.reference}/updates/new/")
    expect(page.get_by_label("Impact started (UTC)")).to_have_value(f"{seeded.impact_started_at:%Y-%m-%dT%H:%M}")
    expect(page.get_by_label("Next update by (UTC)")).to_have_value("")
    page.get_by_label("Impact started (UTC)").fill("2026-11-28T22:10")
    page.get_by_label("Public title").fill("Follow-up: access closed, review of logs continues")
    page.get_by_label("Next update by (UTC)").fill(f"{promise:%Y-%m-%dT%H:%M}")
    both_widths(page, screenshot, "times-01-draft-with-next-update")
    page.get_by_role("button", name="Save draft for approval").click()
    expect(page.locator(".messages")).to_contain_text("Someone else must approve it")
    sign_out(page)

    # -- Communications sees the times as customers will, then approves. --------------------------
    update = IncidentUpdate.objects.drafts().get(case=case)
    sign_in(page, "comms")
    page.goto(f"{site}/cases/{case.reference}/updates/{update.pk}/")
    preview = page.get_by_role("region", name="As customers will read it")
    expect(preview.get_by_test_id("impact-started")).to_contain_text("2026-11-28 22:10 UTC")
    expect(preview.get_by_test_id("next-update")).to_contain_text(f"Next update by {promise:%Y-%m-%d %H:%M} UTC")
    both_widths(page, screenshot, "times-02-review")
    page.get_by_role("button", name="Approve and publish").click()
    expect(page.locator(".messages")).to_contain_text("Update published")
    sign_out(page)

    # -- Contoso reads the times and turns this incident's follow-up emails off. ------------------
    sign_in(page, "customer-contoso")
    page.goto(f"{site}/portal/incidents/{case.reference}/")
    times = page.get_by_role("region", name="When")
    expect(times.get_by_test_id("impact-started")).to_contain_text("2026-11-28 22:10 UTC")
    expect(times.get_by_test_id("detected-at")).to_contain_text(f"{case.detected_at:%Y-%m-%d %H:%M} UTC")
    expect(times.get_by_test_id("impact-ended")).to_contain_text(f"{seeded.impact_ended_at:%Y-%m-%d %H:%M} UTC")
    expect(times.get_by_test_id("next-update")).to_contain_text(f"Next update by {promise:%Y-%m-%d %H:%M} UTC")
    both_widths(page, screenshot, "times-03-portal-incident")
    emails = page.get_by_role("region", name="Emails about this incident")
    emails.get_by_label("For me").select_option(label="Do not email me")
    emails.get_by_role("button", name="Save").click()
    expect(page.locator(".messages")).to_contain_text("Breach notices always reach your security contacts")
    expect(page.get_by_role("region", name="Emails about this incident").get_by_label("For me")).to_have_value("skip")
    both_widths(page, screenshot, "times-04-portal-subscription-saved")
    assert Subscription.objects.get(case=case).receive is False
    page.goto(f"{site}{reverse('notifications:preferences')}")
    expect(page.get_by_test_id(f"subscription-incident-{case.reference}").get_by_label("For me")).to_have_value("skip")
    both_widths(page, screenshot, "times-05-preferences")
    sign_out(page)

    # -- Fabrikam reaches neither the page nor the choice. ----------------------------------------
    sign_in(page, "customer-fabrikam")
    response = page.goto(f"{site}/portal/incidents/{case.reference}/")
    assert response.status == 404
    page.goto(f"{site}{reverse('notifications:preferences')}")
    expect(page.locator("main")).not_to_contain_text(case.reference)
