"""A case from first indication to a declared breach, driven through the pages responders use."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

TITLE = "Suspicious token minting in the identity service"


def test_responder_opens_a_case_and_a_manager_drives_it_to_a_declared_breach(
    page, site, demo_data, sign_in, sign_out, screenshot, expect_blocked, next_action, fill_affected_customer
):
    # -- A responder records the first indication. -------------------------------------------
    sign_in(page, "responder", demo_data)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Open a case").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Open a case")
    page.get_by_label("Title").fill(TITLE)
    page.get_by_label("Source").select_option(label="Automated alert")
    page.get_by_label("Internal summary").fill("Tokens minted for a service principal outside any deploy window.")
    # The opener is the default owner; this responder leaves the case for the manager on call to take.
    page.get_by_label("Owner").select_option(label="Nobody yet")
    screenshot(page, "case-journey-01-open-a-case-form")
    page.get_by_role("button", name="Open case").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    reference = page.locator(".page-head .mono").inner_text().strip()
    assert re.fullmatch(r"IRT-\d{4}-\d{4}", reference), reference
    expect(page.locator(".messages")).to_contain_text(f"{reference} opened.")
    expect(page.locator(".stagebar [aria-current=step]")).to_have_text("Detected")
    expect_blocked(page, "Start assessment", ["Assign an owner"])
    screenshot(page, "case-journey-02-case-opened-by-responder")
    sign_out(page)

    # -- A manager finds it in the list and takes it over. ------------------------------------
    sign_in(page, "manager", demo_data)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Cases").click()
    page.get_by_role("link", name=reference).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)

    facts = page.get_by_role("region", name="Facts")
    # With nobody on point, the owner picker sits in "Next actions", above the step it unblocks.
    actions = page.get_by_role("region", name="Next actions")
    actions.get_by_label("Owner: who is on point?").select_option(label="Morgan Manager")
    actions.get_by_role("button", name="Set owner").click()
    expect(page.locator(".messages")).to_contain_text("Owner updated.")
    expect(facts.locator("dl")).to_contain_text("Morgan Manager")

    page.get_by_role("button", name="Start assessment").click()
    expect(page.locator(".messages")).to_contain_text("Start assessment: done.")
    expect(page.locator(".stagebar [aria-current=step]")).to_have_text("Assessing")
    expect_blocked(page, "Start diagnosis", ["Set a severity.", "Name at least one affected service.",
                                              "Set the shared-responsibility scope"])
    screenshot(page, "case-journey-03-assessing-diagnosis-blocked")

    # -- Assessment: severity, scope and the affected service. --------------------------------
    # The blocked step says where to fix it.
    next_action(page, "Start diagnosis").get_by_role("link", name="edit the details").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Edit {reference}")
    page.get_by_label("Severity").select_option(label="High")
    page.get_by_label("Shared-responsibility scope").select_option(label="Provider")
    page.get_by_label("Identity").check()
    screenshot(page, "case-journey-04-edit-details")
    page.get_by_role("button", name="Save details").click()
    expect(page.locator(".messages")).to_contain_text("Details saved.")
    expect(facts.locator("dl")).to_contain_text("High")
    expect(facts.locator("dl")).to_contain_text("Identity")

    page.get_by_role("button", name="Start diagnosis").click()
    expect(page.locator(".stagebar [aria-current=step]")).to_have_text("Diagnosing")

    # -- Diagnosis finds Contoso's data disclosed. --------------------------------------------
    customers = fill_affected_customer(
        page, "Contoso", "Session tokens for two Contoso service principals were minted by an unknown party."
    )
    screenshot(page, "case-journey-05-diagnosing-add-customer")
    customers.get_by_role("button", name="Add customer").click()
    expect(page.locator(".messages")).to_contain_text("Affected customer added.")
    expect(customers.locator("table")).to_contain_text("Contoso")
    expect(customers.locator("table")).to_contain_text("disclosed")

    stabilize = next_action(page, "Move to stabilize & recover")
    stabilize.get_by_label("Note for the timeline").fill("Revoked the minted tokens and rotated the signing key.")
    stabilize.get_by_role("button", name="Move to stabilize & recover").click()
    expect(page.locator(".stagebar [aria-current=step]")).to_have_text("Stabilizing")
    expect(page.get_by_role("region", name="Timeline")).to_contain_text("Revoked the minted tokens")

    # -- Declaring the breach asks for evidence and an explicit confirmation. -----------------
    page.get_by_role("link", name="Declare breach").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Declare a breach on {reference}")
    expect(page.locator("main")).to_contain_text("Contoso")
    page.get_by_label("What makes this a breach").fill("Identity logs show tokens used against Contoso's storage.")
    # Severity High and no breach category disagree with a breach: the page offers to fix both.
    page.get_by_label("Raise severity to Critical").check()
    page.get_by_label("Breach category").select_option(label="Privacy breach")
    screenshot(page, "case-journey-06-declare-breach-confirmation")
    page.get_by_role("button", name="Declare breach and start the clock").click()
    # Without the confirmation box ticked, nothing is declared.
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Declare a breach on {reference}")
    expect(page.locator(".errorlist")).to_be_visible()
    page.get_by_label("I confirm: start the customer-notice clock now.").check()
    page.get_by_role("button", name="Declare breach and start the clock").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(page.locator(".messages")).to_contain_text("Breach declared.")
    expect(page.locator(".page-head")).to_contain_text("Breach declared")
    expect(page.get_by_role("region", name="Deadlines")).to_contain_text("Customer notice")

    # -- Closing is offered, disabled, and says what is missing. ------------------------------
    close = next_action(page, "Close case")
    expect(close.get_by_role("link", name="write the post-incident review")).to_be_visible()
    screenshot(page, "case-journey-07-stabilizing-breach-close-blocked")
    # The manager added Contoso, so someone else must confirm the row before it counts or is told.
    expect_blocked(page, "Close case", ["post-incident review",
                                         "Confirm or withdraw the affected customers awaiting confirmation: Contoso."])

