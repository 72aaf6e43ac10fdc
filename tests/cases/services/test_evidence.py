"""Evidence: write-once storage, server-side SHA-256, custody trail, and who may touch it."""

import hashlib
import io
import json
import os
import re
import zipfile
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse

from cases.services.evidence_streams import EvidenceAltered, attachment_disposition, download_name
from cases.models.exceptions import ActionRefused, NotAllowed
from cases.models import Case, Evidence, EvidenceAccess, TimelineEvent
from cases.services import evidence as evidence_services
from cases.selectors.timeline import first_broken_link
from tests.factories import case_in_stage

Action = EvidenceAccess.Action
MALWARE = b"MZ\x90\x00" + bytes(range(256)) * 40 + b"<script>alert(1)</script>"


pytestmark = pytest.mark.usefixtures("storage_dir")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def stored_files(location: Path) -> list[Path]:
    return sorted(path for path in location.rglob("*") if path.is_file()) if location.exists() else []


def incoming_files(settings) -> list[str]:
    return os.listdir(settings.FILE_UPLOAD_TEMP_DIR)


def multipart(filename: str, content: bytes, **fields) -> tuple[bytes, str]:
    """Build a multipart body by hand, so the file name reaches the server exactly as given."""
    boundary = "----irt-test-boundary-7MA4YWxkTrZu0gW"
    parts = []
    for name, value in {"description": "Memory image of web-03.", **fields}.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n".encode() + content + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def upload(client, case, content: bytes = MALWARE, filename: str = "web-03.mem", headers=None, follow=False, **fields):
    body, content_type = multipart(filename, content, **fields)
    return client.post(reverse("evidence:list", args=[case.reference]), body, content_type=content_type,
                       follow=follow, **(headers or {}))


def add(case, by, content: bytes = MALWARE, name: str = "sample.bin", **kwargs) -> Evidence:
    return evidence_services.add_evidence(
        case=case, by=by, content=ContentFile(content), original_name=name, description="Sample.", **kwargs
    )


def evidence_events(case, kind=None):
    events = TimelineEvent.objects.filter(case=case, kind__startswith="evidence_")
    return events.filter(kind=kind) if kind else events


def body_of(response) -> bytes:
    return b"".join(response.streaming_content)


# -- Upload ---------------------------------------------------------------------------


def test_responder_uploads_evidence_and_server_hashes_it(client, case, responder, storage_dir, settings):
    client.force_login(responder)
    response = upload(client, case, MALWARE, "web-03.mem", collected_where="web-03 /dev/mem", collected_by="J. Doe")
    assert response.status_code == 302 and response["Location"] == reverse("evidence:list", args=[case.reference])
    item = Evidence.objects.get(case=case)
    assert (item.original_name, item.size, item.sha256) == ("web-03.mem", len(MALWARE), sha(MALWARE))
    assert (item.collected_where, item.collected_by, item.uploaded_by) == ("web-03 /dev/mem", "J. Doe", responder)
    assert re.fullmatch(rf"evidence/{case.pk}/[0-9a-f]{{32}}", item.stored_name)
    [path] = stored_files(storage_dir)
    assert path == storage_dir / item.stored_name and path.read_bytes() == MALWARE
    assert path.stat().st_mode & 0o777 == 0o440
    assert incoming_files(settings) == []


def test_upload_writes_a_timeline_event_and_a_custody_row(client, case, responder):
    client.force_login(responder)
    upload(client, case)
    item = Evidence.objects.get(case=case)
    [event] = evidence_events(case, Action.ADDED)
    assert event.actor == responder and item.sha256 in event.text and event.data["evidence"] == item.pk
    [touch] = item.custody.all()
    assert (touch.action, touch.actor, touch.sha256, touch.timeline_event) == (Action.ADDED, responder, item.sha256, event)
    assert first_broken_link(Case.objects.get(pk=case.pk))[0] is None


def test_path_traversal_names_never_reach_the_file_system(client, case, responder, storage_dir, tmp_path):
    client.force_login(responder)
    for name in ["../../../../etc/passwd", "..\\..\\Windows\\System32\\evil.dll", "/absolute/name.txt"]:
        assert upload(client, case, b"x", name).status_code == 302
    direct = add(case, responder, b"y", "../../outside.txt")
    assert direct.original_name == "../../outside.txt"
    for item in Evidence.objects.filter(case=case):
        assert re.fullmatch(rf"evidence/{case.pk}/[0-9a-f]{{32}}", item.stored_name)
    assert all(path.parent == storage_dir / "evidence" / str(case.pk) for path in stored_files(storage_dir))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evidence-store", "incoming"]
    assert not (tmp_path / "outside.txt").exists()


def test_control_characters_in_names_are_neither_stored_as_paths_nor_sent_as_headers(client, case, responder):
    client.force_login(responder)
    assert upload(client, case, b"x", "tab\there\x1bescape\x7f.txt").status_code == 302
    via_http = Evidence.objects.get(case=case)
    assert "\x1b" not in via_http.original_name and via_http.original_name.endswith(".txt")
    item = add(case, responder, b"y", "evil\r\nX-Injected: 1\x00.txt")
    assert item.original_name == "evil\r\nX-Injected: 1\ufffd.txt"
    response = client.post(reverse("evidence:download", args=[case.reference, item.pk]))
    assert "X-Injected" not in response.headers
    disposition = response["Content-Disposition"]
    assert "\r" not in disposition and "\n" not in disposition
    assert "filename*=UTF-8''evil__X-Injected%3A%201%EF%BF%BD.txt" in disposition
    page = client.get(reverse("evidence:list", args=[case.reference])).content.decode()
    assert "evil\ufffd\ufffdX-Injected" in page


def test_a_thousand_character_name_is_kept_whole_and_shortened_for_the_download(client, case, responder):
    name = "a" * 996 + ".bin"
    item = add(case, responder, b"x", name)
    assert Evidence.objects.get(pk=item.pk).original_name == name
    client.force_login(responder)
    assert client.get(reverse("evidence:list", args=[case.reference])).status_code == 200
    offered = download_name(item.original_name)
    assert len(offered) == 150 and offered.endswith(".bin")
    response = client.post(reverse("evidence:download", args=[case.reference, item.pk]))
    assert len(response["Content-Disposition"]) < 400
    assert body_of(response) == b"x"


def test_a_name_too_long_for_the_multipart_parser_is_refused_clearly(client, case, responder, storage_dir, settings):
    client.force_login(responder)
    response = upload(client, case, b"x", "a" * 996 + ".bin", follow=True)
    assert "The upload could not be read" in response.content.decode()
    assert not Evidence.objects.exists() and stored_files(storage_dir) == [] and incoming_files(settings) == []


def test_unicode_names_are_kept_and_encoded_per_rfc_6266(client, case, responder):
    client.force_login(responder)
    name = "Ünïcødé 日本語 📄.pcap"
    upload(client, case, b"pcap", name)
    item = Evidence.objects.get(case=case)
    assert item.original_name == name
    disposition = client.post(reverse("evidence:download", args=[case.reference, item.pk]))["Content-Disposition"]
    assert disposition == (
        "attachment; filename=\"Unic_de ___ _.pcap\"; "
        "filename*=UTF-8''%C3%9Cn%C3%AFc%C3%B8d%C3%A9%20%E6%97%A5%E6%9C%AC%E8%AA%9E%20%F0%9F%93%84.pcap"
    )
    assert name in client.get(reverse("evidence:list", args=[case.reference])).content.decode()


def test_quotes_and_backslashes_do_not_break_the_ascii_fallback():
    disposition = attachment_disposition('say "hi"\\there.txt')
    assert disposition.startswith('attachment; filename="say _hi__there.txt"; filename*=UTF-8\'\'')


def test_declared_hash_that_does_not_match_refuses_the_item_and_stores_nothing(client, case, responder, storage_dir, settings):
    client.force_login(responder)
    response = upload(client, case, MALWARE, declared_sha256=sha(b"something else"))
    assert response.status_code == 400
    assert "not the declared" in response.content.decode()
    assert not Evidence.objects.exists() and stored_files(storage_dir) == [] and incoming_files(settings) == []
    refusal = TimelineEvent.objects.filter(case=case, kind=TimelineEvent.Kind.REFUSED).last()
    assert "add evidence" in refusal.text and sha(MALWARE) in refusal.text


def test_declared_hash_that_matches_is_kept(client, case, responder):
    client.force_login(responder)
    upload(client, case, MALWARE, declared_sha256="SHA256:" + sha(MALWARE).upper())
    assert Evidence.objects.get(case=case).declared_sha256 == sha(MALWARE)


def test_malformed_declared_hash_is_a_form_error(client, case, responder, storage_dir):
    client.force_login(responder)
    response = upload(client, case, MALWARE, declared_sha256="abc123")
    assert response.status_code == 400 and "64 hexadecimal" in response.content.decode()
    assert stored_files(storage_dir) == []


def test_upload_over_the_size_limit_is_refused_and_leaves_no_file(client, case, responder, settings, storage_dir):
    settings.IRT_EVIDENCE_MAX_BYTES = 1000
    client.force_login(responder)
    response = upload(client, case, b"z" * 1001)
    assert response.status_code == 413
    assert "larger than the evidence limit" in response.content.decode()
    assert not Evidence.objects.exists() and stored_files(storage_dir) == [] and incoming_files(settings) == []
    assert TimelineEvent.objects.filter(case=case, kind=TimelineEvent.Kind.REFUSED).exists()


def test_request_far_over_the_limit_is_refused_before_it_is_read(client, case, responder, settings, storage_dir):
    settings.IRT_EVIDENCE_MAX_BYTES = 10
    client.force_login(responder)
    response = upload(client, case, b"z" * (1024 * 1024 + 100), headers={"HTTP_X_REQUESTED_WITH": "XMLHttpRequest"})
    assert response.status_code == 413
    assert "larger than the evidence limit" in response.json()["errors"][0]
    assert stored_files(storage_dir) == [] and incoming_files(settings) == []


def test_upload_exactly_at_the_limit_is_accepted(client, case, responder, settings):
    settings.IRT_EVIDENCE_MAX_BYTES = 1000
    client.force_login(responder)
    assert upload(client, case, b"z" * 1000).status_code == 302
    assert Evidence.objects.get(case=case).size == 1000


def test_empty_file_is_kept_and_shown_as_empty(client, case, responder):
    client.force_login(responder)
    assert upload(client, case, b"", "empty.log").status_code == 302
    item = Evidence.objects.get(case=case)
    assert item.size == 0 and item.sha256 == sha(b"")
    assert "The file is empty." in evidence_events(case, Action.ADDED).get().text
    page = client.get(reverse("evidence:list", args=[case.reference])).content.decode()
    assert "Empty file" in page
    assert body_of(client.post(reverse("evidence:download", args=[case.reference, item.pk]))) == b""


def test_identical_uploads_are_both_kept_and_shown_as_duplicates(client, case, responder, storage_dir):
    client.force_login(responder)
    upload(client, case, MALWARE, "first.bin")
    upload(client, case, MALWARE, "second.bin")
    first, second = Evidence.objects.filter(case=case).order_by("pk")
    assert first.sha256 == second.sha256 and first.stored_name != second.stored_name
    assert len(stored_files(storage_dir)) == 2
    assert f"Same bytes as {first.label}" in evidence_events(case, Action.ADDED).last().text
    page = client.get(reverse("evidence:list", args=[case.reference])).content.decode()
    assert f"Duplicate of {first.label}" in page and f"Duplicate of {second.label}" in page


def test_xhr_upload_answers_with_json_for_the_progress_script(client, case, responder):
    client.force_login(responder)
    response = upload(client, case, headers={"HTTP_X_REQUESTED_WITH": "XMLHttpRequest"})
    assert response.status_code == 200
    assert response.json() == {"location": reverse("evidence:list", args=[case.reference])}


def test_upload_without_a_file_is_a_form_error(client, case, responder):
    client.force_login(responder)
    response = client.post(reverse("evidence:list", args=[case.reference]), {"description": "No file."})
    assert response.status_code == 400 and not Evidence.objects.exists()


def test_upload_page_loads_the_progress_script_and_has_no_inline_script(client, case, responder):
    client.force_login(responder)
    page = client.get(reverse("evidence:list", args=[case.reference])).content.decode()
    assert "irt/evidence-upload.js" in page and "<progress" in page
    assert re.findall(r"<script(?![^>]*\bsrc=)", page) == []


def test_case_page_links_to_its_evidence(client, case, responder):
    add(case, responder)
    client.force_login(responder)
    page = client.get(case.get_absolute_url()).content.decode()
    assert f'href="{reverse("evidence:list", args=[case.reference])}">Evidence (1)' in page


# -- Download -----------------------------------------------------------------------


def test_download_streams_the_exact_bytes_with_safe_headers(client, case, responder, comms):
    item = add(case, responder, MALWARE, "dropper.exe")
    client.force_login(comms)
    response = client.post(reverse("evidence:download", args=[case.reference, item.pk]))
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"] == "attachment; filename=\"dropper.exe\"; filename*=UTF-8''dropper.exe"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox"
    assert response["Content-Length"] == str(len(MALWARE))
    assert response["Cache-Control"] == "no-store"
    assert body_of(response) == MALWARE
    [event] = evidence_events(case, Action.DOWNLOADED)
    assert event.actor == comms
    assert item.custody.filter(action=Action.DOWNLOADED, actor=comms).exists()


def test_download_of_a_file_changed_on_disk_breaks_and_flags_it(client, case, responder, storage_dir):
    item = add(case, responder, MALWARE * 20)
    path = storage_dir / item.stored_name
    path.chmod(0o640)
    path.write_bytes(b"tampered" + (MALWARE * 20)[8:])
    client.force_login(responder)
    response = client.post(reverse("evidence:download", args=[case.reference, item.pk]))
    received = b""
    with pytest.raises(EvidenceAltered):
        for chunk in response.streaming_content:
            received += chunk
    assert len(received) < item.size
    item.refresh_from_db()
    assert item.integrity_ok is False
    assert "during download" in evidence_events(case, Action.MISMATCH).get().text


def test_download_of_a_missing_file_is_refused_and_flagged(client, case, responder, storage_dir):
    item = add(case, responder)
    path = storage_dir / item.stored_name
    path.unlink()
    client.force_login(responder)
    response = client.post(reverse("evidence:download", args=[case.reference, item.pk]))
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.integrity_ok is False
    assert "missing" in evidence_events(case, Action.MISMATCH).get().text


def test_download_of_another_cases_item_is_404(client, case, manager, responder):
    other = case_in_stage(Case.Status.DIAGNOSING, manager=manager)
    item = add(other, manager)
    client.force_login(responder)
    assert client.post(reverse("evidence:download", args=[case.reference, item.pk])).status_code == 404
    assert not item.custody.filter(action=Action.DOWNLOADED).exists()


def test_evidence_download_by_get_is_refused_and_records_nothing(client, case, responder, manager):
    item = add(case, responder)
    client.force_login(manager)
    before = evidence_events(case).count()
    response = client.get(reverse("evidence:download", args=[case.reference, item.pk]))
    assert response.status_code == 405 and not response.streaming
    assert evidence_events(case).count() == before
    assert list(item.custody.values_list("action", flat=True)) == [Action.ADDED]


def test_evidence_download_without_a_csrf_token_is_refused_and_records_nothing(case, responder, manager):
    from django.test import Client

    item = add(case, responder)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(manager)
    # What a cross-site form would send: the session cookie, but no token.
    response = browser.post(reverse("evidence:download", args=[case.reference, item.pk]))
    assert response.status_code == 403 and not response.streaming
    assert not evidence_events(case, Action.DOWNLOADED).exists()
    assert not item.custody.filter(action=Action.DOWNLOADED).exists()


def test_evidence_download_from_the_list_page_posts_its_form_with_a_csrf_token(case, responder, manager):
    from django.test import Client

    item = add(case, responder, MALWARE, "dropper.exe")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(manager)
    page = browser.get(reverse("evidence:list", args=[case.reference])).content.decode()
    url = reverse("evidence:download", args=[case.reference, item.pk])
    form = re.search(rf'<form method="post" action="{re.escape(url)}">(.*?)</form>', page, re.S)
    assert form, "the download is a form that posts"
    assert f'href="{url}"' not in page
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.group(1)).group(1)
    response = browser.post(url, {"csrfmiddlewaretoken": token})
    assert response.status_code == 200 and body_of(response) == MALWARE


def test_the_custody_record_of_a_download_names_the_user_address_and_user_agent(client, case, responder, comms):
    item = add(case, responder)
    client.force_login(comms)
    response = client.post(reverse("evidence:download", args=[case.reference, item.pk]),
                           REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT="curl/8.5.0")
    assert body_of(response) == MALWARE
    touch = item.custody.get(action=Action.DOWNLOADED)
    assert (touch.actor, touch.actor_name) == (comms, "comms")
    assert "203.0.113.7" in touch.note and "curl/8.5.0" in touch.note
    event = evidence_events(case, Action.DOWNLOADED).get()
    assert event.actor == comms and touch.timeline_event == event
    assert (event.data["client_address"], event.data["user_agent"]) == ("203.0.113.7", "curl/8.5.0")


def test_the_custody_record_of_an_export_names_the_address_and_user_agent(client, case, responder, manager):
    item = add(case, responder)
    client.force_login(manager)
    response = client.post(reverse("evidence:export", args=[case.reference]),
                           REMOTE_ADDR="198.51.100.4", HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux)")
    assert response.status_code == 200 and body_of(response)
    touch = item.custody.get(action=Action.EXPORTED)
    assert touch.actor == manager and "198.51.100.4" in touch.note and "Mozilla/5.0 (X11; Linux)" in touch.note
    assert evidence_events(case, Action.EXPORTED).get().data["client_address"] == "198.51.100.4"


# -- Verification -------------------------------------------------------------------


def test_verification_catches_a_file_changed_on_disk_after_upload(case, responder, storage_dir):
    item = add(case, responder, MALWARE)
    assert evidence_services.verify_evidence(evidence=item, by=responder) is True
    assert item.integrity_ok is True and evidence_events(case, Action.VERIFIED).count() == 1
    path = storage_dir / item.stored_name
    path.chmod(0o640)
    path.write_bytes(MALWARE[:-1] + b"!")
    assert evidence_services.verify_evidence(evidence=item, by=responder) is False
    item.refresh_from_db()
    assert item.integrity_ok is False and item.last_verified_at is not None
    mismatch = evidence_events(case, Action.MISMATCH).get()
    assert sha(MALWARE[:-1] + b"!") in mismatch.text and item.sha256 in mismatch.text
    assert item.custody.filter(action=Action.MISMATCH, sha256=sha(MALWARE[:-1] + b"!")).exists()


def test_verify_all_reports_the_altered_items_and_writes_one_summary(client, case, responder, storage_dir):
    intact = add(case, responder, b"intact")
    altered = add(case, responder, b"original")
    path = storage_dir / altered.stored_name
    path.chmod(0o640)
    path.write_bytes(b"origina1")
    client.force_login(responder)
    response = client.post(reverse("evidence:verify-all", args=[case.reference]), follow=True)
    assert f"1 of 2 items no longer match their SHA-256: {altered.label}" in response.content.decode()
    intact.refresh_from_db()
    altered.refresh_from_db()
    assert (intact.integrity_ok, altered.integrity_ok) == (True, False)
    summary = evidence_events(case, Action.VERIFIED).get()
    assert summary.data == {"checked": [intact.pk, altered.pk], "failed": [altered.pk]}
    assert evidence_events(case, Action.MISMATCH).count() == 1
    assert first_broken_link(Case.objects.get(pk=case.pk))[0] is None


def test_verify_evidence_command_passes_when_intact_and_fails_on_any_mismatch(case, manager, responder, storage_dir):
    item = add(case, responder)
    out = io.StringIO()
    call_command("verify_evidence", stdout=out)
    assert "1 evidence items: every SHA-256 matches." in out.getvalue()
    (storage_dir / item.stored_name).unlink()
    with pytest.raises(CommandError, match="1 of 1 evidence items"):
        call_command("verify_evidence", stdout=io.StringIO(), stderr=io.StringIO())
    item.refresh_from_db()
    assert item.integrity_ok is False
    assert evidence_events(case, Action.MISMATCH).get().actor is None


# -- Supersession -------------------------------------------------------------------


def test_superseding_keeps_the_item_and_records_the_reason(client, case, responder, storage_dir):
    item = add(case, responder)
    client.force_login(responder)
    url = reverse("evidence:supersede", args=[case.reference, item.pk])
    client.post(url, {"reason": ""})
    item.refresh_from_db()
    assert not item.is_superseded
    client.post(url, {"reason": "Collected from the wrong host; see EV-99."})
    item.refresh_from_db()
    assert item.is_superseded and item.superseded_by == responder and "wrong host" in item.superseded_reason
    assert (storage_dir / item.stored_name).read_bytes() == MALWARE
    assert "wrong host" in evidence_events(case, Action.SUPERSEDED).get().text
    with pytest.raises(ActionRefused, match="already superseded"):
        evidence_services.supersede_evidence(evidence=item, by=responder, reason="Again.")


def test_comms_cannot_supersede_or_verify(client, case, responder, comms):
    item = add(case, responder)
    client.force_login(comms)
    before = evidence_events(case).count()
    assert client.post(reverse("evidence:supersede", args=[case.reference, item.pk]), {"reason": "x"}).status_code == 403
    assert client.post(reverse("evidence:verify", args=[case.reference, item.pk])).status_code == 403
    assert client.post(reverse("evidence:verify-all", args=[case.reference])).status_code == 403
    with pytest.raises(NotAllowed):
        evidence_services.supersede_evidence(evidence=item, by=comms, reason="x")
    item.refresh_from_db()
    assert not item.is_superseded and item.superseded_reason == ""
    assert item.integrity_ok is None and item.last_verified_at is None
    assert evidence_events(case).count() == before
    assert list(item.custody.values_list("action", flat=True)) == [Action.ADDED]


# -- Export -------------------------------------------------------------------------


def test_export_is_a_zip_with_the_files_and_a_manifest_with_custody(client, case, responder, manager):
    first = add(case, responder, MALWARE, "../dropper.exe")
    second = add(case, responder, b"", "empty.log")
    client.force_login(manager)
    response = client.post(reverse("evidence:export", args=[case.reference]))
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith(f'attachment; filename="{case.reference}-evidence-')
    archive = zipfile.ZipFile(io.BytesIO(body_of(response)))
    assert archive.testzip() is None
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["case"] == case.reference and manifest["exported_by"] == "manager"
    entries = {entry["id"]: entry for entry in manifest["items"]}
    assert entries[first.label]["original_name"] == "../dropper.exe"
    assert entries[first.label]["sha256"] == entries[first.label]["sha256_at_export"] == sha(MALWARE)
    assert entries[second.label]["size"] == 0 and entries[second.label]["intact"] is True
    assert archive.read(entries[first.label]["archive_name"]) == MALWARE
    assert all(".." not in name.split("/") for name in archive.namelist())
    assert [step["action"] for step in entries[first.label]["custody"]] == [Action.ADDED, Action.EXPORTED]
    assert evidence_events(case, Action.EXPORTED).get().actor == manager


def test_export_without_evidence_says_so(client, case, manager):
    client.force_login(manager)
    response = client.post(reverse("evidence:export", args=[case.reference]), follow=True)
    assert "no evidence to export" in response.content.decode()


# -- Who may do what ----------------------------------------------------------------

LOGIN = "login"
ROLES = ["anonymous", "customer", "nonmember_responder", "member_responder", "manager", "comms"]
EXPECTED = {
    "list": {"anonymous": LOGIN, "customer": 404, "nonmember_responder": 404, "member_responder": 200, "manager": 200, "comms": 200},
    "upload": {"anonymous": LOGIN, "customer": 404, "nonmember_responder": 404, "member_responder": 302, "manager": 302, "comms": 403},
    "download": {"anonymous": LOGIN, "customer": 404, "nonmember_responder": 404, "member_responder": 200, "manager": 200, "comms": 200},
    "export": {"anonymous": LOGIN, "customer": 404, "nonmember_responder": 404, "member_responder": 200, "manager": 200, "comms": 200},
}


@pytest.fixture
def people(contoso_user, other_responder, responder, manager, comms):
    return {"anonymous": None, "customer": contoso_user, "nonmember_responder": other_responder,
            "member_responder": responder, "manager": manager, "comms": comms}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", sorted(EXPECTED))
def test_evidence_urls_answer_each_role_as_expected(client, case, people, manager, storage_dir, action, role):
    item = add(case, manager)
    if people[role] is not None:
        client.force_login(people[role])
    before = evidence_events(case).count()
    if action == "list":
        response = client.get(reverse("evidence:list", args=[case.reference]))
    elif action == "upload":
        response = upload(client, case, b"new bytes")
    elif action == "download":
        response = client.post(reverse("evidence:download", args=[case.reference, item.pk]))
    else:
        response = client.post(reverse("evidence:export", args=[case.reference]))
    expected = EXPECTED[action][role]
    if expected == LOGIN:
        assert response.status_code == 302 and reverse("login") in response["Location"]
    else:
        assert response.status_code == expected
    if response.status_code in (200, 302) and expected != LOGIN and action != "list":
        assert evidence_events(case).count() == before + 1, "every touch is on the timeline"
    else:
        assert evidence_events(case).count() == before, "a refused request wrote custody"
        assert len(stored_files(storage_dir)) == 1


@pytest.mark.parametrize("name", ["export", "verify-all"])
def test_post_only_evidence_urls_refuse_get(client, case, manager, name):
    client.force_login(manager)
    assert client.get(reverse(f"evidence:{name}", args=[case.reference])).status_code == 405


def test_restricted_case_evidence_is_404_for_a_manager_who_is_not_a_member(client, manager, second_manager, storage_dir):
    restricted = case_in_stage(Case.Status.DIAGNOSING, manager=manager, restricted=True)
    add(restricted, manager)
    client.force_login(second_manager)
    assert client.get(reverse("evidence:list", args=[restricted.reference])).status_code == 404


# -- The database keeps it write-once -----------------------------------------------


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the write-once triggers exist on PostgreSQL only")
def test_postgresql_refuses_to_delete_evidence_or_rewrite_its_hash(case, responder):
    from django.db import DatabaseError, transaction

    item = add(case, responder)
    with pytest.raises(DatabaseError), transaction.atomic():
        Evidence.objects.filter(pk=item.pk).update(sha256="0" * 64)
    with pytest.raises(DatabaseError), transaction.atomic():
        EvidenceAccess.objects.filter(evidence=item).delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        Evidence.objects.filter(pk=item.pk).update(original_name="x")
    Evidence.objects.filter(pk=item.pk).update(integrity_ok=True)
