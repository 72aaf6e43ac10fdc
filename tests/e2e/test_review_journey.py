"""Reviewers see what they approve; after a breach the notice is the next thing to do.

A manager declares a breach and finds "Draft the breach notice" as the first next action. A
responder drafts a follow-up update with Markdown, previewing it; Communications opens it from the
case page, reads it rendered as the customer will, the changes against the published update and
the recipients beside the approve button, and approves. Communications also reads the internal
review it approves (a 403 before). Screenshots at 1366x900 and on a 390x844 phone.
"""

import pytest
from playwright.sync_api import expect

from cases.models import Case, Organization, User
from cases.services.review import save_review
from tests.factories import AffectedCustomerFactory, case_in_stage

pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


def both_widths(page, screenshot, name):
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        screenshot(page, f"{name}-{label}")
    page.set_viewport_size(DESKTOP)


def test_after_declaring_a_breach_the_breach_notice_is_the_next_action(page, site, demo_data, open_case_as, screenshot):
    manager = User.objects.get(username="manager")
    case = case_in_stage(Case.Status.STABILIZING, manager=manager, title="Snapshot export to a foreign account")
    AffectedCustomerFactory(case=case, by=manager, organization=Organization.objects.get(slug="contoso"), data_disclosed=True)
    page.set_viewport_size(DESKTOP)
    open_case_as(page, "manager", case.reference)
    page.get_by_role("link", name="Declare breach…").click()
    page.get_by_label("What makes this a breach").fill("Snapshot copy events in the audit log for the Contoso account.")
    page.get_by_label("Raise severity to Critical").check()
    page.get_by_label("Breach category").select_option(label="Privacy breach")
    page.get_by_label("I confirm: start the customer-notice clock now.").check()
    page.get_by_role("button", name="Declare breach and start the clock").click()
    actions = page.get_by_role("region", name="Next actions")
    first = actions.locator(".action").first
    expect(first).to_contain_text("Next: tell the affected customers")
    expect(first).to_contain_text("Contoso")
    expect(first).to_contain_text("sends it as their breach notice")
    draft = first.get_by_role("link", name="Draft the breach notice (first customer update)")
    expect(draft).to_have_class("btn primary")
    expect(page.locator("main")).not_to_contain_text("email the customer")
    both_widths(page, screenshot, "review-01-breach-declared-next-step")
    draft.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Draft a customer update")


def test_comms_reads_the_draft_as_customers_will_with_changes_and_recipients_then_approves(
    page, site, demo_data, sign_in, sign_out, open_case_as, screenshot
):
    page.on("dialog", lambda dialog: dialog.accept())
    case = Case.objects.get(breach_declared_at__isnull=False)
    Organization.objects.filter(slug="contoso").update(security_contacts="soc@contoso.example")
    page.set_viewport_size(DESKTOP)

    # -- A responder drafts a follow-up in Markdown and previews it before saving. ----------------
    open_case_as(page, "responder", case.reference)
    page.get_by_role("link", name="Draft an update").click()
    page.get_by_label("Public title").fill("Access restored to normal; logs available")
    page.get_by_label("What happened").fill("The faulty rollout is **fully reverted**; no further reads since 05:40 UTC.")
    page.locator("#id_what_happened").locator("xpath=..").get_by_role("button", name="Preview").click()
    expect(page.locator("#id_what_happened_preview strong")).to_have_text("fully reverted")
    screenshot(page, "review-02-markdown-preview")
    page.get_by_role("button", name="Save draft for approval").click()
    expect(page.locator(".messages")).to_contain_text("Someone else must approve it")
    sign_out(page)

    # -- Communications opens the draft from the case page and reads all of it. -------------------
    open_case_as(page, "comms", case.reference)
    page.get_by_role("link", name="Read in full, with changes and recipients").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Review the customer update")
    preview = page.get_by_role("region", name="As customers will read it")
    expect(preview.locator("strong", has_text="fully reverted").first).to_be_visible()
    expect(preview).to_contain_text("Three objects in bucket contoso-reports")  # Contoso's own impact statement
    changes = page.get_by_role("region", name="What changes")
    expect(changes.locator("ins").first).to_be_visible()
    expect(changes.locator("del").first).to_be_visible()
    expect(changes).to_contain_text("Unauthorised read access to some Object Storage buckets")
    recipients = page.get_by_role("region", name="Who receives it")
    expect(recipients).to_contain_text("Contoso")
    expect(recipients).to_contain_text("soc@contoso.example")
    expect(recipients).not_to_contain_text("Fabrikam")
    approve = recipients.get_by_role("button", name="Approve and publish")
    expect(approve).to_be_visible()
    both_widths(page, screenshot, "review-03-comms-reads-draft")
    approve.click()
    expect(page.locator(".messages")).to_contain_text("Update published")

    # -- Communications reads the internal review it is asked to approve. -------------------------
    save_review(case=case, by=User.objects.get(username="responder"), what_happened="Reads of **three objects**.",
                what_went_wrong="A deny rule evaluated as allow.")
    page.goto(f"{site}{case.get_absolute_url()}")
    page.get_by_role("link", name="Read the review in full").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Post-incident review (internal)")
    expect(page.locator("main strong", has_text="three objects")).to_be_visible()
    both_widths(page, screenshot, "review-04-comms-reads-internal-review")
    page.get_by_role("button", name="Approve review").click()
    expect(page.locator(".messages")).to_contain_text("Review approved.")
