"""The SOP in the browser: a playbook drives the stages, a breach starts the clocks, the case closes."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

TITLE = "Customer reports their export bucket was read"


def test_manager_follows_a_playbook_declares_an_eu_breach_meets_the_clocks_and_closes(
    page, site, demo_data, sign_in, sign_out, screenshot, open_case_as, expect_blocked, next_action, fill_affected_customer
):
    # -- The manager opens a case with the customer-data-exposure playbook. ------------------------
    sign_in(page, "manager", demo_data)
    page.goto(f"{site}/cases/new/")
    page.get_by_label("Title").fill(TITLE)
    page.get_by_label("Source").select_option(label="Customer report")
    page.get_by_label("Owner").select_option(label="Morgan Manager")
    page.get_by_label("Playbook").select_option(label="Customer data exposure (v1)")
    page.get_by_role("button", name="Open case").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    reference = page.locator(".page-head .mono").inner_text().strip()
    playbook = page.get_by_role("region", name="Playbook")
    expect(playbook).to_contain_text("Following Customer data exposure (v1)")
    expect(playbook).to_contain_text("Confirm the report with provider-side logs")

    # -- The mandatory step blocks leaving "detected", named in the reason, until it is done. -------
    expect_blocked(page, "Start assessment", ["Confirm the report with provider-side logs"])
    screenshot(page, "sop-journey-01-mandatory-step-blocks")
    playbook.get_by_text("Guidance").first.click()
    expect(playbook.locator(".guidance strong").first).to_have_text("storage access logs")
    playbook.get_by_role("button", name="Mark done: Confirm the report with provider-side logs").click()
    expect(page.locator(".messages")).to_contain_text("Task done.")
    page.get_by_role("button", name="Start assessment").click()
    expect(page.locator(".stagebar [aria-current=step]")).to_have_text("Assessing")
    expect(playbook).to_contain_text("Name the affected services and tenants")
    screenshot(page, "sop-journey-02-assessing-steps")

    # -- Assessment: details, the stage's mandatory step, then diagnosis. ---------------------------
    page.get_by_role("link", name="Edit details").click()
    page.get_by_label("Severity").select_option(label="Critical")
    page.get_by_label("Shared-responsibility scope").select_option(label="Provider")
    page.get_by_label("Object Storage").check()
    page.get_by_role("button", name="Save details").click()
    expect_blocked(page, "Start diagnosis", ["Name the affected services and tenants"])
    playbook.get_by_role("button", name="Mark done: Name the affected services and tenants").click()
    page.get_by_role("button", name="Start diagnosis").click()
    expect(page.locator(".stagebar [aria-current=step]")).to_have_text("Diagnosing")

    # -- Contoso (in the EU) is affected; a second person confirms it. ---------------------------
    customers = fill_affected_customer(page, "Contoso", "Objects in contoso-exports, including names and emails, were read.")
    customers.get_by_role("button", name="Add customer").click()
    expect(page.locator(".messages")).to_contain_text("Affected customer added.")
    sign_out(page)
    open_case_as(page, "comms", reference)
    page.get_by_role("button", name="Confirm Contoso").click()
    sign_out(page)
    open_case_as(page, "manager", reference)
    playbook.get_by_role("button", name="Mark done: Export access logs for the exposure window").click()

    # -- Declaring the breach pre-ticks GDPR Art. 33 for an EU customer; two clocks run. --------------
    page.get_by_role("link", name="Declare breach").click()
    expect(page.get_by_label("Aware of a personal-data breach (GDPR Art. 33)")).to_be_checked()
    page.get_by_label("What makes this a breach").fill("Access logs show an external principal read Contoso's personal data.")
    page.get_by_label("Breach category").select_option(label="Privacy breach")
    page.get_by_label("I confirm: start the customer-notice clock now.").check()
    screenshot(page, "sop-journey-03-declare-breach-regimes")
    page.get_by_role("button", name="Declare breach and start the clock").click()
    expect(page.locator(".messages")).to_contain_text("Breach declared.")
    clocks = page.get_by_role("region", name="Deadlines and clocks")
    expect(clocks.locator("#clock-customer_notice")).to_contain_text("Due")
    expect(clocks.locator("#clock-gdpr_art33")).to_contain_text("GDPR Art. 33 notification to the supervisory authority")
    expect(clocks.locator("#clock-gdpr_art33")).to_contain_text(re.compile(r"\d+ h"))
    screenshot(page, "sop-journey-04-two-clocks-running")

    # -- The submission to the authority meets the GDPR clock. ------------------------------------
    gdpr = clocks.locator("#clock-gdpr_art33")
    gdpr.get_by_text("Record the submission").click()
    gdpr.get_by_label("Recipient").fill("CNIL (lead supervisory authority)")
    gdpr.get_by_label("What was sent").fill("Art. 33 notification form: nature, categories, approximate numbers, measures.")
    gdpr.get_by_label("Reference number").fill("CNIL-2026-0815")
    gdpr.get_by_role("button", name="Record submission").click()
    expect(page.locator(".messages")).to_contain_text("Submission recorded")
    expect(gdpr).to_contain_text("Met")
    expect(gdpr).to_contain_text("CNIL-2026-0815")
    screenshot(page, "sop-journey-05-gdpr-submitted")

    # -- Stabilize, finish the stage's steps, the review and the notice, then close. ---------------
    stabilize = next_action(page, "Move to stabilize & recover")
    stabilize.get_by_label("Note for the timeline").fill("External principal blocked; bucket policy fixed.")
    stabilize.get_by_role("button", name="Move to stabilize & recover").click()
    expect(page.locator(".stagebar [aria-current=step]")).to_have_text("Stabilizing")
    expect_blocked(page, "Close case", ["Verify the fix holds with a regression test"])
    playbook.get_by_role("button", name="Mark done: Verify the fix holds with a regression test").click()
    playbook.get_by_role("button", name="Mark done: Write the post-incident review").click()
    _review_and_deliver(reference)
    page.reload()
    screenshot(page, "sop-journey-06-ready-to-close")
    actions = page.get_by_role("region", name="Next actions")
    actions.locator("#note-close").fill("Authority and Contoso notified; fix verified.")
    page.on("dialog", lambda dialog: dialog.accept())  # "Close this case? Customers see it as resolved."
    actions.get_by_role("button", name="Close case").click()
    expect(page.locator(".stagebar [aria-current=step]")).to_have_text("Closed")
    expect(page.get_by_role("region", name="Timeline")).to_contain_text("Stabilizing → Closed")
    screenshot(page, "sop-journey-07-closed")


def _review_and_deliver(reference):
    """Outside this journey: another responder's approved review, and the customer notice met."""
    from cases.models import Case
    from cases.services import cases as case_services
    from cases.services import review
    from cases.models import User
    from django.utils import timezone

    from cases.services import notices

    case = Case.objects.get(reference=reference)
    manager, responder, comms = (User.objects.get(username=name) for name in ("manager", "responder", "comms"))
    case_services.add_member(case=case, by=manager, user=responder)
    review.save_review(case=case, by=responder, what_happened="Export bucket read.", what_went_wrong="Policy rollout.")
    review.approve_review(case=case, by=comms)
    # The notice went out by phone as well; comms approves the record, which meets the customer notice.
    row = case.affected_customers.get()
    notice = notices.record_out_of_band_notice(row=row, by=manager, channel="phone", person_reached="Contoso's CISO",
                                               reached_at=timezone.now(), evidence_reference="call-log 4711")
    notices.approve_out_of_band_notice(notice=notice, by=comms)

