"""Every page a responder, a customer or a public reader opens fits a 390 px wide phone.

A page fits when ``document.documentElement.scrollWidth`` is at most the viewport's width: nothing
makes the reader scroll sideways (wide tables scroll inside their own box, the stage bar wraps).
On failure the message names the elements that stick out, so the fix is obvious.
"""

import pytest
from playwright.sync_api import expect

from cases.models import Case, PublishedReview

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}

# The elements whose right edge passes the viewport, deepest first, as "tag.class#id (right edge)".
OVERFLOWING = """(width) => {
  const out = [];
  for (const el of document.body.querySelectorAll("*")) {
    const box = el.getBoundingClientRect();
    if (box.right > width + 0.5 && box.width > 0) {
      out.push(`${el.tagName.toLowerCase()}.${[...el.classList].join(".")}#${el.id} (${Math.round(box.right)})`);
    }
  }
  return out.slice(-8);
}"""


def check_pages(page, site, screenshot, pages: dict[str, str]) -> None:
    """Open each page at phone width and fail, listing every page that is too wide and why."""
    too_wide = []
    for name, path in pages.items():
        page.goto(f"{site}{path}")
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        screenshot(page, f"phone-{name}")
        if width > PHONE["width"]:
            too_wide.append(f"{name} ({path}) is {width}px wide: {page.evaluate(OVERFLOWING, PHONE['width'])}")
    assert not too_wide, "\n".join(too_wide)


def on_a_phone(page, sign_in, username: str) -> Case:
    """Sign ``username`` in, narrow the window to a phone and return the demo breach case."""
    sign_in(page, username)
    page.set_viewport_size(PHONE)
    return Case.objects.get(breach_declared_at__isnull=False)


def test_staff_pages_fit_a_phone(page, site, demo_data, sign_in, screenshot):
    case = on_a_phone(page, sign_in, "manager")
    check_pages(page, site, screenshot, {
        "staff-dashboard": "/",
        "staff-case-list": "/cases/",
        "staff-case-page": case.get_absolute_url(),
        "staff-evidence": f"{case.get_absolute_url()}evidence/",
        "staff-inbox": "/inbox/",
        "staff-deliveries": "/inbox/deliveries/",
        "staff-update-form": f"{case.get_absolute_url()}updates/new/",
        "staff-alerts": "/alerts/",
    })


def test_case_page_on_a_phone_puts_clocks_and_the_next_action_first(page, site, demo_data, sign_in, screenshot):
    """On a phone the clocks come before the next action, and both before the customers and the timeline."""
    case = on_a_phone(page, sign_in, "manager")
    page.goto(f"{site}{case.get_absolute_url()}")
    clocks = page.get_by_role("region", name="Deadlines and clocks").bounding_box()
    actions = page.get_by_role("region", name="Next actions").bounding_box()
    customers = page.get_by_role("region", name="Affected customers").bounding_box()
    facts = page.locator("#facts-h").bounding_box()
    assert clocks["y"] < actions["y"] < customers["y"], (clocks, actions, customers)
    assert actions["y"] < facts["y"], "the facts come after the next action on a phone"
    assert actions["y"] < PHONE["height"] * 2, "the next action is within two screens of the top"
    screenshot(page, "phone-staff-case-page-top")


def test_customer_pages_fit_a_phone(page, site, demo_data, sign_in, screenshot):
    case = on_a_phone(page, sign_in, "customer-contoso")
    check_pages(page, site, screenshot, {
        "customer-portal": "/portal/",
        "customer-portal-incident": f"/portal/incidents/{case.reference}/",
        "customer-inbox": "/inbox/",
        "customer-preferences": "/inbox/preferences/",
    })


def test_public_lessons_pages_fit_a_phone(page, site, demo_data, screenshot):
    review = PublishedReview.objects.published().get(audience=PublishedReview.Audience.PUBLIC)
    page.set_viewport_size(PHONE)
    check_pages(page, site, screenshot, {
        "public-lessons": "/lessons/", "public-lesson": review.get_absolute_url(), "public-scorecard": "/lessons/scorecard/",
    })
