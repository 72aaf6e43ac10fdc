"""Small things of issue 15 point 9, seen in the browser: a visible "Mark read" button, the customer's current nav item."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

# The button's text and background colours, as the browser paints them.
COLOURS = """(el) => { const s = getComputedStyle(el); return [s.color, s.backgroundColor]; }"""


def test_mark_read_is_visible_and_marks_the_entry_read(page, site, demo_data, sign_in, screenshot):
    sign_in(page, "manager")
    page.goto(f"{site}/inbox/")
    button = page.get_by_role("button", name="Mark read").first
    expect(button).to_be_visible()
    ink, background = button.evaluate(COLOURS)
    assert ink != background, f"Mark read is painted {ink} on {background}"
    screenshot(page, "inbox-01-mark-read")
    before = page.get_by_role("button", name="Mark read").count()
    button.click()
    expect(page.get_by_role("button", name="Mark read")).to_have_count(before - 1)


def test_the_customer_navigation_marks_the_page_they_are_on(page, site, demo_data, sign_in, screenshot):
    sign_in(page, "customer-contoso")
    nav = page.get_by_role("navigation", name="Main")
    for path, current in [("/inbox/", "Inbox"), ("/inbox/preferences/", "Inbox"), ("/portal/", "Your incidents")]:
        page.goto(f"{site}{path}")
        expect(nav.locator("[aria-current=page]")).to_have_count(1)
        expect(nav.locator("[aria-current=page]")).to_contain_text(current)
    page.goto(f"{site}/inbox/")
    screenshot(page, "inbox-02-customer-nav-current")
