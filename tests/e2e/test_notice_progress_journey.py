"""A breach notice going out: the case page's counts follow the workers without a reload.

Screenshots: ``notice-progress-*.png`` under test-artifacts/screenshots/.
"""

import pytest
from playwright.sync_api import expect

from cases.models import Case
from notifications.models import Delivery

pytestmark = pytest.mark.e2e


def test_the_case_page_follows_breach_notices_as_they_are_delivered(page, site, demo_data, sign_in, screenshot):
    breach = Case.objects.get(breach_declared_at__isnull=False)
    notices = Delivery.objects.filter(notification__case=breach, notification__kind="breach_notice", channel=Delivery.Channel.EMAIL)
    total = notices.count()
    assert total, "the demo breach has breach-notice emails"
    notices.update(status=Delivery.Status.PENDING)

    sign_in(page, "manager", demo_data)
    page.goto(f"{site}{breach.get_absolute_url()}")
    progress = page.get_by_role("region", name="Breach notices sent")
    expect(progress).to_contain_text("Sending")
    expect(progress.locator('[data-status="pending"]').first).to_have_text(str(total))
    screenshot(page, "notice-progress-01-sending")

    # The workers deliver them; the page is not reloaded.
    notices.update(status=Delivery.Status.DELIVERED)
    expect(progress.locator('[data-status="delivered"]').first).to_have_text(str(total), timeout=15_000)
    expect(page.get_by_role("region", name="Breach notices sent")).not_to_contain_text("Sending")
    screenshot(page, "notice-progress-02-delivered")
