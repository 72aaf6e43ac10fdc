"""Forms that respect the person typing: after a submit they are back where they were; uploads can be cancelled."""

import re

import pytest
from playwright.sync_api import expect

from cases.models import Case

pytestmark = pytest.mark.e2e


def test_after_adding_a_task_the_tasks_section_has_the_focus_and_the_message(page, site, demo_data, open_case_as, screenshot):
    case = Case.objects.get(breach_declared_at__isnull=False)
    open_case_as(page, "manager", case.reference)
    tasks = page.get_by_role("region", name="Tasks")
    tasks.get_by_text("Add a task").click()
    tasks.get_by_label("Title").fill("Ask Contoso for their CloudTrail export")
    tasks.get_by_role("button", name="Add task").click()
    expect(page.locator("#tasks-h")).to_be_focused()
    expect(tasks.locator(".messages")).to_contain_text("Task added.")
    expect(tasks).to_contain_text("Ask Contoso for their CloudTrail export")
    screenshot(page, "forms-01-back-in-tasks")


def test_an_upload_shows_speed_and_time_left_and_can_be_cancelled(page, site, demo_data, sign_in, tmp_path):
    case = Case.objects.get(breach_declared_at__isnull=False)
    capture = tmp_path / "big.log"
    capture.write_bytes(b"x" * 5_000_000)
    before = case.evidence.count()
    sign_in(page, "manager")
    page.goto(f"{site}{case.get_absolute_url()}evidence/")
    # A slow uplink (about 500 kB/s), so there is time to read the progress and cancel.
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 20, "downloadThroughput": -1,
                                                  "uploadThroughput": 500_000})
    page.locator("#evidence-upload input[type=file]").set_input_files(str(capture))
    page.get_by_label("Description").fill("Too big, sent by mistake")
    page.get_by_role("button", name="Upload").click()
    status = page.locator("#evidence-upload-status")
    expect(status).to_contain_text("%")
    expect(status).to_contain_text("/s")
    expect(status).to_contain_text("left")
    cancel = page.get_by_role("button", name="Cancel", exact=True)
    expect(cancel).to_be_visible()
    cancel.click()
    expect(page.locator("#evidence-upload-status")).to_contain_text("Upload cancelled. Nothing was stored.")
    expect(page.get_by_role("button", name="Upload")).to_be_enabled()
    assert case.evidence.count() == before


def test_times_show_their_age_and_customers_see_their_local_time(browser, site, demo_data, sign_in, screenshot):
    case = Case.objects.get(breach_declared_at__isnull=False)
    context = browser.new_context(timezone_id="Europe/Amsterdam", locale="en-GB", viewport={"width": 1366, "height": 900})
    page = context.new_page()
    sign_in(page, "manager")
    page.goto(f"{site}{case.get_absolute_url()}")
    # The timeline's newest entry was written moments ago by seed_demo.
    expect(page.locator(".timeline .age").first).to_have_text(re.compile(r" \((just now|\d+ min ago|\d+ h( \d+ min)? ago)\)"))
    # Started (its age shows: "just now" when another journey declared it a moment ago); the due time gets none.
    expect(page.locator("#clock-customer_notice .age").first).to_have_text(re.compile(r" \((just now|.+ ago)\)"))
    expect(page.locator(".age", has_text="your time")).to_have_count(0)  # staff work in UTC
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, "customer-contoso")
    page.goto(f"{site}/portal/incidents/{case.reference}/")
    expect(page.locator(".age", has_text="your time").first).to_be_visible()
    screenshot(page, "forms-02-customer-local-time")
    context.close()
