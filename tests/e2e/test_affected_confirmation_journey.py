"""A second person confirms an affected organisation before its portal shows the incident.

A responder adds Fabrikam to a case in the browser; the row shows "awaiting confirmation" and
Fabrikam's portal answers 404. Communications confirms the row; only then does Fabrikam's
portal list and show the incident, with Fabrikam's own impact statement.
"""

import pytest
from playwright.sync_api import expect

from cases.models import AffectedCustomer, Case, Organization, User
from cases.services import cases as case_services
from cases.services import communications
from tests.factories import case_in_stage

pytestmark = pytest.mark.e2e


def test_fabrikam_sees_the_incident_only_after_a_second_person_confirms_it(page, site, demo_data, sign_in, sign_out, screenshot,
                                                                           open_case_as, fill_affected_customer):
    manager, responder, comms = (User.objects.get(username=name) for name in ("manager", "responder", "comms"))
    fabrikam = Organization.objects.get(slug="fabrikam")
    case = case_in_stage(Case.Status.STABILIZING, manager=manager, title="Shared cache served other tenants' reports")
    case_services.add_member(case=case, by=manager, user=responder)
    update = communications.draft_update(case=case, by=responder, public_title="Reports served from a shared cache",
                                         what_happened="A cache key collision served some reports to the wrong tenant.")
    communications.approve_update(update=update, by=comms)
    incident_url = f"{site}/portal/incidents/{case.reference}/"

    # -- The responder adds Fabrikam; the row awaits confirmation. ----------------------------------
    open_case_as(page, "responder", case.reference)
    customers = fill_affected_customer(page, "Fabrikam", "Two Fabrikam invoices were shown to another tenant on 3 March.")
    customers.get_by_role("button", name="Add customer").click()
    expect(page.locator(".messages")).to_contain_text("awaits confirmation")
    row = AffectedCustomer.objects.get(case=case, organization=fabrikam)
    expect(page.locator(f"#customer-{row.pk}")).to_contain_text("Awaiting confirmation")
    expect(page.get_by_role("button", name="Confirm Fabrikam")).to_have_count(0)
    screenshot(page, "affected-confirmation-01-awaiting-confirmation")
    sign_out(page)

    # -- Fabrikam's portal shows nothing yet. --------------------------------------------------------
    sign_in(page, "customer-fabrikam", demo_data)
    expect(page.locator("body")).not_to_contain_text("Reports served from a shared cache")
    assert page.goto(incident_url).status == 404
    screenshot(page, "affected-confirmation-02-fabrikam-404-before")
    sign_out(page)

    # -- Communications confirms the row. ------------------------------------------------------------
    open_case_as(page, "comms", case.reference)
    page.get_by_role("button", name="Confirm Fabrikam").click()
    expect(page.locator(".messages")).to_contain_text("Fabrikam confirmed")
    expect(page.locator(f"#customer-{row.pk}")).to_contain_text("Confirmed")
    screenshot(page, "affected-confirmation-03-comms-confirmed")
    sign_out(page)
    row.refresh_from_db()
    assert row.confirmed_by == comms

    # -- Now Fabrikam's portal lists and shows the incident, with its own impact. --------------------
    sign_in(page, "customer-fabrikam", demo_data)
    page.get_by_role("link", name="Reports served from a shared cache").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reports served from a shared cache")
    expect(page.locator("body")).to_contain_text("Two Fabrikam invoices were shown to another tenant on 3 March.")
    expect(page.locator("body")).not_to_contain_text("Contoso")
    screenshot(page, "affected-confirmation-04-fabrikam-reads-after")
