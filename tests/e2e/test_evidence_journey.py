"""A responder uploads evidence with a progress bar and downloads it back, byte for byte, with a POST."""

import hashlib

import pytest
from playwright.sync_api import expect

from cases.models import Case

pytestmark = pytest.mark.e2e


def test_manager_uploads_evidence_with_progress_and_downloads_the_same_bytes(page, site, demo_data, sign_in, screenshot, tmp_path):
    payload = (b"2026-11-29T02:10:00Z GET /contoso-reports/q3.xlsx 200 principal=ext-7781\n" * 60_000)[:5_000_000]
    digest = hashlib.sha256(payload).hexdigest()
    capture = tmp_path / "access-log ümlaut.txt"
    capture.write_bytes(payload)
    case = Case.objects.get(breach_declared_at__isnull=False)

    sign_in(page, "manager", demo_data)
    page.goto(f"{site}{case.get_absolute_url()}")
    page.get_by_role("link", name="Evidence").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Evidence")
    page.locator("#evidence-upload input[type=file]").set_input_files(str(capture))
    page.get_by_label("Description").fill("Object storage access log for the exposure window")
    seen = []
    page.expose_function("reportProgress", lambda value, maximum: seen.append((float(value), float(maximum))))
    # <progress>.value reflects to its attribute, so an observer sees every step the script reports.
    page.evaluate("""() => {
        const bar = document.getElementById("evidence-upload-progress");
        new MutationObserver(() => window.reportProgress(bar.value, bar.max)).observe(bar, {attributes: true});
    }""")
    page.get_by_role("button", name="Upload").click()
    # The bar appears while the bytes go up; after the redirect the item is listed.
    expect(page.locator("table")).to_contain_text("access-log ümlaut.txt", timeout=15_000)
    expect(page.locator("table")).to_contain_text(digest)
    screenshot(page, "evidence-01-uploaded")
    assert seen, "the progress bar never moved"
    assert seen[-1][0] == seen[-1][1] >= len(payload), seen[-3:]

    # The download is a form button (POST with the CSRF token): a plain link or a GET writes nothing.
    item = case.evidence.get(original_name="access-log ümlaut.txt")
    download_url = f"{site}{case.get_absolute_url()}evidence/{item.pk}/download/"
    assert page.request.get(download_url).status == 405
    assert not item.custody.filter(action="evidence_downloaded").exists()
    with page.expect_download() as download_info:
        page.locator("table tr", has_text="access-log ümlaut.txt").get_by_role("button", name="Download").click()
    download = download_info.value
    assert download.suggested_filename == "access-log ümlaut.txt"
    assert hashlib.sha256(open(download.path(), "rb").read()).hexdigest() == digest
    assert page.url.endswith(f"{case.get_absolute_url()}evidence/"), "the page stays where it was"
    page.reload()
    expect(page.locator("table")).to_contain_text("downloaded")
    [touch] = item.custody.filter(action="evidence_downloaded")
    assert touch.actor_name == "manager" and "127.0.0.1" in touch.note and "Chrome" in touch.note
    screenshot(page, "evidence-02-after-download")
