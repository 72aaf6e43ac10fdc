"""The 3 a.m. desk: a critical alert becomes a case nobody owns, the on-call manager is paged, finds it, and assigns it.

Screenshots at 1366×900 and on a 390×844 phone: ``dashboard-*.png`` under test-artifacts/screenshots/.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cases.models import Case, Deadline, User
from cases.services import communications
from notifications.models import Delivery

pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
CRITICAL_GROUP = "Root user disabled S3 Block Public Access"


def fits_the_phone(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def both_sizes(page, screenshot, name: str) -> None:
    """Screenshot the page at desktop size, then on a phone, checking it fits; leave the desktop size set."""
    page.set_viewport_size(DESKTOP)
    screenshot(page, f"{name}-desktop")
    page.set_viewport_size(PHONE)
    page.reload()
    fits_the_phone(page)
    screenshot(page, f"{name}-phone")
    page.set_viewport_size(DESKTOP)


def _things_go_wrong_overnight() -> None:
    """Age the demo breach's GDPR clock past due, draft an update for approval and let one breach-notice email die."""
    breach = Case.objects.get(breach_declared_at__isnull=False)
    breach.deadlines.filter(kind=Deadline.Kind.GDPR_ART33).update(due_at=timezone.now() - timedelta(hours=2, minutes=5))
    communications.draft_update(case=breach, by=User.objects.get(username="responder"), public_title="Listing closed",
                                what_happened="The faulty rule was rolled back at 03:10 UTC.")
    first_email = Delivery.objects.filter(channel=Delivery.Channel.EMAIL, notification__kind="breach_notice").order_by("created_at").first()
    Delivery.objects.filter(pk=first_email.pk).update(status=Delivery.Status.DEAD, last_error="550 5.1.1 mailbox unavailable")


def test_a_critical_case_nobody_owns_reaches_the_on_call_manager_who_assigns_it(
    page, site, demo_data, sign_in, sign_out, screenshot
):
    page.set_viewport_size(DESKTOP)
    sign_in(page, "responder", demo_data)
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    triage = page.get_by_role("region", name="Waiting for triage")
    expect(triage).to_contain_text(CRITICAL_GROUP)
    both_sizes(page, screenshot, "dashboard-01-responder")

    # The responder promotes the waiting critical group without taking it.
    triage.get_by_role("link", name=CRITICAL_GROUP).click()
    page.get_by_role("button", name="Promote to a new case").click()
    expect(page.locator(".messages")).to_contain_text("opened from")
    case = Case.objects.get(title=CRITICAL_GROUP)
    assert case.owner is None and case.severity == "critical"
    sign_out(page)
    _things_go_wrong_overnight()

    # The incident manager (on call: nobody is in the rota group, so every manager) is paged.
    sign_in(page, "manager", demo_data)
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name=re.compile("Inbox"))).to_contain_text(re.compile(r"\d"))
    breaches = page.get_by_role("region", name="Breaches and running clocks")
    expect(breaches).to_contain_text("Customer notice")
    expect(breaches.locator(".overdue")).to_contain_text("overdue by 2 h")
    expect(page.get_by_role("region", name=re.compile(r"^Awaiting my approval"))).to_contain_text("Customer update")
    expect(page.get_by_role("region", name="Dead deliveries")).to_contain_text("550 5.1.1")
    triage = page.get_by_role("region", name="Waiting for triage")
    expect(triage.locator("table").first.locator("tbody tr").first).to_contain_text(case.reference)
    expect(page.get_by_role("region", name="Open cases per stage")).to_contain_text("Finished:")
    both_sizes(page, screenshot, "dashboard-02-manager")

    nav.get_by_role("link", name=re.compile("Inbox")).click()
    expect(page.locator("main")).to_contain_text(f"New critical case nobody owns: {case.reference}")

    # One search box finds the case by the IP address in its alerts, and the alert group it came from.
    nav.get_by_role("link", name="Dashboard").click()
    page.get_by_label("Search cases").fill("198.51.100.23")
    page.get_by_role("button", name="Search").click()
    results = page.get_by_role("region", name=re.compile(r"^Cases \("))
    expect(results).to_contain_text(case.reference)
    expect(results).to_contain_text("observables")
    expect(page.get_by_role("region", name=re.compile(r"^Alert groups"))).to_contain_text(f"Promoted to a case · {case.reference}")
    both_sizes(page, screenshot, "dashboard-03-search")

    # The case list: open cases, most severe first by its column; a bulk action assigns the owner.
    nav.get_by_role("link", name="Cases").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cases")
    page.get_by_role("link", name="Severity").click()
    first_row = page.locator("table tbody tr").first
    expect(first_row).to_contain_text("Critical")
    page.get_by_label(f"Select {case.reference}").check()
    page.get_by_label("Action").select_option("assign_owner")
    page.get_by_label("Person").select_option(str(User.objects.get(username="responder").pk))
    page.get_by_role("button", name="Apply to selected cases").click()
    expect(page.locator(".messages")).to_contain_text(f"owner assigned on {case.reference}")
    assert "sort=severity" in page.url
    both_sizes(page, screenshot, "dashboard-04-case-list")
    case.refresh_from_db()
    assert case.owner.username == "responder"

    nav.get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("region", name="Waiting for triage")).not_to_contain_text(case.reference)
