"""The evidence upload's own multipart parse: fields, the one file and its hash, limits, malformed bodies."""

import hashlib
import os
import random
import re
import threading
from pathlib import Path

import pytest
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http.multipartparser import MultiPartParserError
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, assume, given, settings as hypothesis_settings, strategies as st

from cases.models import Evidence, TimelineEvent
from cases.services.evidence_uploads import EvidenceUploadHandler, _BufferedWrites, _DirectWrites

BOUNDARY = "----irt-test-boundary-7MA4YWxkTrZu0gW"
DELIMITER = f"\r\n--{BOUNDARY}".encode()
CONTENT = b"MZ\x90\x00" + bytes(range(256)) * 40


pytestmark = pytest.mark.usefixtures("storage_dir")


def field(name: str, value: str) -> bytes:
    return f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()


def file_part(content: bytes, filename: str = "web-03.mem", name: str = "file") -> bytes:
    head = (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n")
    return head.encode() + content + b"\r\n"


def body(*parts: bytes, csrf_token: str | None = None) -> bytes:
    token = [field("csrfmiddlewaretoken", csrf_token)] if csrf_token else []
    return b"".join([*token, *parts, f"--{BOUNDARY}--\r\n".encode()])


def post(client, case, data: bytes, xhr: bool = False, content_type: str | None = None):
    return client.post(
        reverse("evidence:list", args=[case.reference]), data,
        content_type=content_type or f"multipart/form-data; boundary={BOUNDARY}",
        **({"HTTP_X_REQUESTED_WITH": "XMLHttpRequest"} if xhr else {}),
    )


def nothing_left(settings, storage_dir) -> bool:
    stored = [path for path in storage_dir.rglob("*") if path.is_file()] if storage_dir.exists() else []
    return not Evidence.objects.exists() and stored == [] and os.listdir(settings.FILE_UPLOAD_TEMP_DIR) == []


class ShortReads:
    """A request body that answers each read with at most the next of the given sizes."""

    def __init__(self, data: bytes, sizes: list[int]):
        self.data, self.sizes, self.position, self.reads = data, sizes or [len(data) or 1], 0, 0

    def read(self, size: int = -1) -> bytes:
        step = self.sizes[self.reads % len(self.sizes)]
        self.reads += 1
        chunk = self.data[self.position:self.position + min(size, step)]
        self.position += len(chunk)
        return chunk


def parse(data: bytes, sizes: list[int] | None = None, max_bytes: int = 4 * 1024 * 1024):
    handler = EvidenceUploadHandler(max_bytes=max_bytes)
    meta = {"CONTENT_TYPE": f"multipart/form-data; boundary={BOUNDARY}"}
    post, files = handler.handle_raw_input(ShortReads(data, sizes or []), meta, len(data), BOUNDARY.encode(), "utf-8")
    return handler, post, files


# -- Through the view ------------------------------------------------------------------


def test_fields_and_file_reach_the_form_and_the_hash_is_of_the_bytes(client, case, responder):
    client.force_login(responder)
    data = body(
        field("description", "Mémoire de web-03 ✓"), field("collected_where", "web-03 /dev/mem"),
        file_part(CONTENT, "Ünïcødé dump.mem"), field("collected_by", "J. Doe"),
        field("declared_sha256", hashlib.sha256(CONTENT).hexdigest()),
    )
    response = post(client, case, data)
    assert response.status_code == 302
    item = Evidence.objects.get(case=case)
    assert item.sha256 == hashlib.sha256(CONTENT).hexdigest() and item.size == len(CONTENT)
    assert item.original_name == "Ünïcødé dump.mem"
    assert (item.description, item.collected_where, item.collected_by) == (
        "Mémoire de web-03 ✓", "web-03 /dev/mem", "J. Doe")


def test_a_file_over_the_limit_is_refused_while_streaming_and_leaves_nothing(client, case, responder, settings, storage_dir):
    settings.IRT_EVIDENCE_MAX_BYTES = 1000
    client.force_login(responder)
    response = post(client, case, body(field("description", "Too big."), file_part(b"z" * 5000)))
    assert response.status_code == 413 and "larger than the evidence limit" in response.content.decode()
    assert nothing_left(settings, storage_dir)
    assert TimelineEvent.objects.filter(case=case, kind=TimelineEvent.Kind.REFUSED).exists()


def test_a_second_file_is_refused_and_neither_is_kept(client, case, responder, settings, storage_dir):
    client.force_login(responder)
    data = body(field("description", "Two."), file_part(b"one", "a.bin"), file_part(b"two", "b.bin", name="other"))
    response = post(client, case, data, xhr=True)
    # The view answers every handler refusal with 413, this one included (unchanged by the parse).
    assert response.status_code == 413 and response.json() == {"errors": ["Attach one file per upload."]}
    assert nothing_left(settings, storage_dir)


@pytest.mark.parametrize("data", [
    pytest.param(body(field("description", "Cut."), file_part(CONTENT))[:-200], id="truncated-in-the-file"),
    pytest.param(body(field("description", "Cut."), file_part(CONTENT)).rsplit(b"--\r\n", 1)[0], id="no-closing-boundary"),
    pytest.param(body(field("description", "Cut."))[:40], id="truncated-in-the-headers"),
    pytest.param(b"garbage before any boundary", id="no-boundary-at-all"),
    pytest.param(body(field("description", "x")).replace(b"\r\n\r\n", b"\r\nno colon here\r\n\r\n"), id="bad-header"),
    pytest.param(body(file_part(CONTENT, "a" * 996 + ".bin")), id="header-over-the-size-limit"),
])
def test_a_malformed_body_is_a_clear_error_and_leaves_nothing(client, case, responder, settings, storage_dir, data):
    client.force_login(responder)
    response = post(client, case, data, xhr=True)
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error.startswith("The upload could not be read (") and error.endswith("). Nothing was stored.")
    assert ".)" not in error, "the reason's own full stop doubled the sentence's"
    assert nothing_left(settings, storage_dir)


def test_a_content_type_without_a_boundary_is_a_clear_error(client, case, responder, settings, storage_dir):
    client.force_login(responder)
    response = post(client, case, body(file_part(CONTENT)), xhr=True, content_type="multipart/form-data")
    assert response.status_code == 400 and "Invalid boundary" in response.json()["errors"][0]
    assert nothing_left(settings, storage_dir)


def test_too_many_fields_are_a_400_and_leave_nothing(client, case, responder, settings, storage_dir):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 3
    client.force_login(responder)
    data = body(file_part(CONTENT), *(field(f"f{number}", "x") for number in range(4)))
    assert post(client, case, data).status_code == 400
    assert nothing_left(settings, storage_dir)


def test_fields_over_the_memory_limit_are_a_400_and_leave_nothing(client, case, responder, settings, storage_dir):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client.force_login(responder)
    data = body(file_part(CONTENT), field("description", "x" * 1000))
    assert post(client, case, data).status_code == 400
    assert nothing_left(settings, storage_dir)


# -- CSRF: the token travels in the body the handler parses ------------------------------


def signed_in_browser(user, case) -> tuple[Client, str]:
    """Return a client that enforces CSRF as a browser does, and the token its upload form carries."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    page = browser.get(reverse("evidence:list", args=[case.reference])).content.decode()
    return browser, re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def test_an_upload_without_the_csrf_token_is_refused_and_stores_nothing(case, responder, settings, storage_dir):
    browser, _ = signed_in_browser(responder, case)
    response = post(browser, case, body(field("description", "Cross-site."), file_part(CONTENT)))
    assert response.status_code == 403
    assert nothing_left(settings, storage_dir)


def test_an_upload_with_a_wrong_csrf_token_is_refused_and_stores_nothing(case, responder, settings, storage_dir):
    browser, _ = signed_in_browser(responder, case)
    data = body(field("description", "Forged."), file_part(CONTENT), csrf_token="x" * 64)
    assert post(browser, case, data).status_code == 403
    assert nothing_left(settings, storage_dir)


def test_an_upload_with_the_csrf_token_in_the_body_is_stored(case, responder):
    browser, token = signed_in_browser(responder, case)
    response = post(browser, case, body(field("description", "From the form."), file_part(CONTENT), csrf_token=token))
    assert response.status_code == 302
    assert Evidence.objects.get(case=case).sha256 == hashlib.sha256(CONTENT).hexdigest()


def test_a_request_known_too_large_still_reads_the_token_and_answers_413(case, responder, settings, storage_dir):
    settings.IRT_EVIDENCE_MAX_BYTES = 10
    browser, token = signed_in_browser(responder, case)
    data = body(field("description", "Huge."), file_part(b"z" * (1024 * 1024 + 100)), csrf_token=token)
    response = post(browser, case, data)
    assert response.status_code == 413 and "larger than the evidence limit" in response.content.decode()
    assert nothing_left(settings, storage_dir)


# -- The parse on its own, with reads that split the body anywhere ------------------------


def test_a_boundary_split_across_reads_is_found(settings):
    data = body(field("description", "Split."), file_part(CONTENT))
    for size in [1, 2, 3, len(DELIMITER) - 1, len(DELIMITER), len(DELIMITER) + 1, 4096]:
        handler, post_data, files = parse(data, [size])
        upload = files["file"]
        assert upload.sha256 == hashlib.sha256(CONTENT).hexdigest() and upload.read() == CONTENT
        assert post_data["description"] == "Split."
        upload.close()
    assert os.listdir(settings.FILE_UPLOAD_TEMP_DIR) == []


near_boundaries = st.sampled_from([DELIMITER[:cut] for cut in range(1, len(DELIMITER))] + [b"\r\n--", b"--", b"\r", b"\n"])


@hypothesis_settings(max_examples=150, deadline=None, database=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    pieces=st.lists(st.one_of(st.binary(max_size=80), near_boundaries), max_size=40),
    sizes=st.lists(st.integers(min_value=1, max_value=97), min_size=1, max_size=8),
)
def test_any_content_and_any_read_sizes_give_the_exact_bytes_and_hash(settings, pieces, sizes):
    content = b"".join(pieces)
    assume(DELIMITER not in content + b"\r\n")
    handler, post_data, files = parse(body(field("description", "Fuzzed."), file_part(content)), sizes)
    upload = files["file"]
    try:
        assert upload.read() == content and upload.size == len(content)
        assert upload.sha256 == hashlib.sha256(content).hexdigest()
        assert post_data["description"] == "Fuzzed." and upload.original_name == "web-03.mem"
    finally:
        upload.close()
    assert os.listdir(settings.FILE_UPLOAD_TEMP_DIR) == []


def test_random_large_content_with_random_reads_keeps_its_hash(settings):
    generator = random.Random(18)
    content = generator.randbytes(3 * 1024 * 1024) + DELIMITER[:-1] + generator.randbytes(1000)
    sizes = [generator.randint(1, 2 * 1024 * 1024) for _ in range(20)]
    handler, post_data, files = parse(body(file_part(content), field("description", "After the file.")), sizes)
    assert files["file"].sha256 == hashlib.sha256(content).hexdigest() and post_data["description"] == "After the file."
    files["file"].close()


@pytest.mark.parametrize("data, error", [
    (body(file_part(CONTENT))[:-10], MultiPartParserError),
    (body(file_part(CONTENT), *(field(f"f{number}", "x") for number in range(5))), TooManyFieldsSent),
    (body(field("description", "x" * 5000), file_part(CONTENT)), RequestDataTooBig),
])
def test_a_parse_that_fails_removes_its_temporary_file(settings, data, error):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 4
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4000
    with pytest.raises(error):
        parse(data, [7])
    assert os.listdir(settings.FILE_UPLOAD_TEMP_DIR) == []


def test_a_part_without_a_name_is_skipped_like_django_does():
    nameless = f"--{BOUNDARY}\r\nContent-Disposition: form-data\r\n\r\nignored\r\n".encode()
    handler, post_data, files = parse(body(nameless, field("description", "Kept."), file_part(CONTENT)))
    assert dict(post_data) == {"description": ["Kept."]} and re.fullmatch("[0-9a-f]{64}", files["file"].sha256)
    files["file"].close()


def hashing_threads() -> list:
    return [thread for thread in threading.enumerate() if thread.name.startswith("evidence-hash")]


@pytest.mark.parametrize("data", [body(file_part(CONTENT)), body(file_part(CONTENT))[:-10]], ids=["stored", "truncated"])
def test_the_hashing_thread_ends_with_the_upload_whatever_its_outcome(settings, data):
    try:
        handler, post_data, files = parse(data, [7])
    except MultiPartParserError:
        pass
    else:
        files["file"].close()
    assert hashing_threads() == []


@pytest.mark.parametrize("sizes", [[0], [1], [4095], [4096], [4097], [1024 * 1024], [1024 * 1024 + 3], [5, 4091, 1024 * 1024, 7, 9000]])
def test_direct_writes_leave_exactly_the_bytes_written(tmp_path, sizes):
    path = tmp_path / "upload"
    path.touch()
    writes = _DirectWrites.open(str(path))
    if writes is None:
        pytest.skip("this file system refuses O_DIRECT; the buffered writes are tested by every upload test")
    generator = random.Random(sum(sizes))
    chunks = [generator.randbytes(size) for size in sizes]
    for chunk in chunks:
        writes.write(memoryview(chunk))
    writes.finish()
    assert path.read_bytes() == b"".join(chunks)


def direct_writes_work(directory) -> bool:
    probe = Path(directory) / "probe"
    probe.touch()
    try:
        writes = _DirectWrites.open(str(probe))
        if writes is not None:
            writes.close()
        return writes is not None
    finally:
        probe.unlink()


@pytest.mark.parametrize("direct", [True, False], ids=["direct", "through the page cache"])
def test_a_large_upload_is_exact_whichever_way_it_is_written(settings, monkeypatch, direct):
    if not direct:
        monkeypatch.setattr(_DirectWrites, "open", classmethod(lambda cls, path: None))
    generator = random.Random(7)
    content = generator.randbytes(2 * 1024 * 1024 + 4097)
    handler, post_data, files = parse(body(file_part(content)), [generator.randint(1, 300_000) for _ in range(30)])
    assert isinstance(handler._writes, _DirectWrites if direct and direct_writes_work(settings.FILE_UPLOAD_TEMP_DIR) else _BufferedWrites)
    assert files["file"].read() == content and files["file"].sha256 == hashlib.sha256(content).hexdigest()
    files["file"].close()
