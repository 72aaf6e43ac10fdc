"""Close and post-mortem: the review is written and approved, the case closes, lessons go public."""

import pytest
from playwright.sync_api import expect

from cases.models import Case, User
from cases.services import cases as case_services
from cases.services import tasks
from tests.factories import case_in_stage

pytestmark = pytest.mark.e2e

# The public review the responder writes, by the label of each text field.
CUSTOMER_REVIEW = {
    "Title": "Deploy key exposed in a public repository",
    "Impact started (UTC)": "2026-11-20T10:00",
    "Impact ended (UTC)": "2026-11-20T13:00",
    "Who was affected": "No customer data was read; deploy pipelines were paused for one hour.",
    "What happened": "A deploy key was committed to a public repository.",
    "What went wrong and why": "Secret scanning did not cover one organisation.",
    "How we responded": "We revoked the key within 40 minutes and rotated everything it could reach.",
}


def next_actions(page):
    return page.locator("#actions-h").locator("xpath=..")


def test_responder_writes_review_comms_approves_manager_closes_and_the_lessons_go_public(
    page, site, demo_data, open_case_as, sign_out, fill_form, screenshot
):
    manager, responder = User.objects.get(username="manager"), User.objects.get(username="responder")
    case = case_in_stage(Case.Status.STABILIZING, manager=manager, title="Leaked deploy key in a public repository")
    case_services.add_member(case=case, by=manager, user=responder)
    tasks.add_task(case=case, by=manager, title="Rotate every key the deploy key could reach", mandatory=True, assignee=responder)
    page.on("dialog", lambda dialog: dialog.accept())

    # -- The responder finishes the mandatory task and writes the internal review. -------------
    open_case_as(page, "responder", case.reference)
    expect(next_actions(page)).to_contain_text("1 mandatory task is still open.")
    page.locator("#tasks-h").locator("xpath=..").get_by_role("button", name="Mark done").click()
    expect(page.locator(".messages")).to_contain_text("Task done.")
    page.get_by_role("link", name="Write the review").click()
    page.get_by_label("What happened").fill("A deploy key was readable in a public repository for 3 hours.")
    page.get_by_label("What went wrong").fill("Secret scanning did not cover the deploy-tools organisation.")
    page.get_by_role("button", name="Save review").click()
    expect(page.locator("#review-h").locator("xpath=..")).to_contain_text("Awaiting approval")
    # The author cannot approve their own review: no button for them.
    expect(page.locator("#review-h").locator("xpath=..").get_by_role("button", name="Approve review")).to_have_count(0)

    customers_read = page.locator("#comms-h").locator("xpath=..")
    customers_read.get_by_text("Add a repair item").click()
    customers_read.get_by_label("Repair item").fill("Secret scanning on every organisation")
    customers_read.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("Repair item added.")
    page.get_by_role("link", name="Write the customer review").click()
    page.get_by_label("Audience").select_option("public")
    fill_form(page, CUSTOMER_REVIEW)
    page.get_by_role("button", name="Save for approval").click()
    expect(page.locator(".messages")).to_contain_text("Customer review saved")
    screenshot(page, "post-mortem-01-review-written")
    sign_out(page)

    # -- Comms approves both reviews. ----------------------------------------------------------
    open_case_as(page, "comms", case.reference)
    page.get_by_role("button", name="Approve review").click()
    expect(page.locator(".messages")).to_contain_text("Review approved.")
    page.locator("#comms-h").locator("xpath=..").get_by_role("button", name="Approve and publish").click()
    expect(page.locator(".messages")).to_contain_text("Customer review published.")
    sign_out(page)

    # -- The manager closes the case (with confirmation), then sees it closed. -----------------
    open_case_as(page, "manager", case.reference)
    actions = next_actions(page)
    actions.locator("#note-close").fill("Keys rotated, scanning extended, review published.")
    actions.get_by_role("button", name="Close case").click()
    expect(page.locator(".stagebar [aria-current=step]")).to_have_text("Closed")
    expect(page.locator(".timeline")).to_contain_text("Stabilizing → Closed")
    screenshot(page, "post-mortem-02-closed")
    # Repairs outlive the case.
    page.locator("#comms-h").locator("xpath=..").get_by_label("Status").select_option("done")
    page.locator("#comms-h").locator("xpath=..").get_by_role("button", name="Set").click()
    expect(page.locator(".messages")).to_contain_text("Repair item updated.")
    sign_out(page)

    # -- Anyone reads the lessons, with the repair shown as done. -------------------------------
    page.goto(f"{site}/lessons/")
    page.get_by_role("link", name=CUSTOMER_REVIEW["Title"]).click()
    expect(page.locator("body")).to_contain_text("Secret scanning on every organisation")
    expect(page.locator("table")).to_contain_text("Done")
    expect(page.locator("body")).not_to_contain_text("deploy-tools organisation")  # internal review text stays internal
    screenshot(page, "post-mortem-03-public-lessons")
