"""Metrics and case reports in the browser: a manager reads the metrics and downloads a case report;
a Contoso user downloads the customer version, which holds nothing of Fabrikam or of internal notes.
"""

import io

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from cases.models import Case, TimelineEvent

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def pdf_text(content: bytes) -> str:
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages).split())


def both_widths(page, screenshot, name: str) -> None:
    """Save the page at desktop and at phone width."""
    screenshot(page, f"{name}-desktop")
    page.set_viewport_size(PHONE)
    screenshot(page, f"{name}-phone")
    page.set_viewport_size(DESKTOP)


def test_manager_reads_metrics_and_downloads_a_case_report(page, site, demo_data, sign_in, screenshot):
    sign_in(page, "manager", demo_data)
    page.get_by_role("link", name="Metrics").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Metrics")
    expect(page.locator("#fig-contain")).to_be_visible()
    expect(page.locator("svg.chart").first).to_be_visible()
    both_widths(page, screenshot, "reports-journey-01-metrics")

    page.get_by_label("Group by").select_option("severity")
    page.get_by_role("button", name="Show").click()
    contain = page.locator("#fig-contain").locator("xpath=..")
    contain.get_by_role("link", name="All cases").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Time to contain: All cases")
    both_widths(page, screenshot, "reports-journey-02-cases-behind-a-figure")

    reference = page.locator("td a.mono").first.inner_text()
    page.get_by_role("link", name=reference).first.click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    both_widths(page, screenshot, "reports-journey-03-case-page-report-buttons")
    with page.expect_download(timeout=60_000) as download_info:  # typesetting takes seconds on a busy machine
        page.get_by_role("button", name="Case report (PDF)").click()
    download = download_info.value
    assert download.suggested_filename == f"{reference}-report.pdf"
    with open(download.path(), "rb") as handle:
        text = pdf_text(handle.read())
    assert reference in text and "10. Timeline verification" in text
    assert TimelineEvent.objects.filter(case__reference=reference, kind=TimelineEvent.Kind.REPORT_GENERATED).count() == 1

    # The HTML version is a document of its own: it opens in a new tab.
    with page.expect_popup(timeout=60_000) as popup_info:
        page.get_by_role("button", name="Case report (HTML)").click()
    report = popup_info.value
    expect(report.get_by_role("heading", level=2, name="7. Evidence manifest")).to_be_visible()
    both_widths(report, screenshot, "reports-journey-04-internal-report-html")
    assert TimelineEvent.objects.filter(case__reference=reference, kind=TimelineEvent.Kind.REPORT_GENERATED).count() == 2


def test_contoso_downloads_the_customer_report_without_fabrikam_or_internal_notes(page, site, demo_data, sign_in, screenshot):
    case = Case.objects.filter(breach_declared_at__isnull=False, affected_customers__organization__slug="contoso").first()
    generated = TimelineEvent.objects.filter(case=case, kind=TimelineEvent.Kind.REPORT_GENERATED)
    report_url = f"{site}/portal/incidents/{case.reference}/report.pdf"
    sign_in(page, "customer-contoso", demo_data)
    page.get_by_role("link", name="Unauthorised read access to some Object Storage buckets").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Unauthorised read access")
    both_widths(page, screenshot, "reports-journey-05-contoso-incident")
    with page.expect_download(timeout=60_000) as download_info:
        page.get_by_role("button", name="Download report (PDF)").click()
    download = download_info.value
    assert download.suggested_filename == f"{case.reference}-contoso.pdf"
    with open(download.path(), "rb") as handle:
        text = pdf_text(handle.read())
    assert case.reference in text and "Contoso" in text
    assert "Fabrikam" not in text
    assert case.internal_summary[:40] not in text
    for note in TimelineEvent.objects.filter(case=case, kind=TimelineEvent.Kind.NOTE).values_list("text", flat=True):
        assert note[:40] not in text
    assert generated.count() == 1
    # What a cross-site link or a prefetcher would send, with the reader's own session: refused, nothing recorded.
    assert page.request.get(report_url).status == 405
    assert generated.count() == 1
    # Fabrikam's user has no such page, and a POST carrying a valid CSRF token gets the 404 every outsider gets.
    page.context.clear_cookies()
    sign_in(page, "customer-fabrikam", demo_data)
    assert page.goto(f"{site}/portal/incidents/{case.reference}/").status == 404
    token = page.locator("input[name=csrfmiddlewaretoken]").first.get_attribute("value")
    assert page.request.post(report_url, form={"csrfmiddlewaretoken": token}).status == 404
    assert generated.count() == 1
