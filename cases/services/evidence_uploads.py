"""Receive an evidence upload: hash it while it streams to a temporary file, within a size limit.

The whole file never sits in memory (one chunk at a time) and the SHA-256 is the server's own,
computed over exactly the bytes written. An upload over ``IRT_EVIDENCE_MAX_BYTES`` is refused
and its temporary file removed; ``refusal`` then says why, for the view to show.

The body is parsed here, not by Django's ``MultiPartParser``: with its boundary search in Python
an upload ran at about a quarter of hashlib's speed (docs/benchmarks.md). python-multipart
(Starlette's parser) finds boundaries with ``bytes.find`` over 4 MiB reads and hands over slices
of them, which are hashed and written without a copy. Django's rules are kept: the same header
size limit, field count and memory limits, file name sanitising and field decoding; a malformed
or truncated body is a ``MultiPartParserError``, with the temporary file removed.

Each chunk is hashed on a second thread while it is written (``_OverlappedHash``): hashlib and file
writes both release the GIL, so on a machine with a free core the upload costs about the hash alone
rather than the hash plus the write plus the parse. The file is written past the page cache where
the file system allows it (``_DirectWrites``): a gigabyte written through the cache cost 1 to 3.5 s
on the benchmark's machine (new pages to allocate, then writers throttled behind the previous
upload's writeback) against a steady 0.6 s direct, and evidence nobody reads soon no longer pushes
the database's pages out of memory.
"""

import base64
import binascii
import hashlib
import html
import mmap
import os
from concurrent.futures import Future, ThreadPoolExecutor

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import QueryDict
from django.http.multipartparser import MAX_TOTAL_HEADER_SIZE, MultiPartParserError
from django.utils.datastructures import MultiValueDict
from django.utils.encoding import force_str
from django.utils.http import parse_header_parameters
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser

from irt.sizes import byte_size

# Room for the form fields and multipart boundaries around the file itself.
FORM_OVERHEAD_BYTES = 1024 * 1024
# One read of the request body: large enough that per-read Python work and the hand-overs to the hashing thread
# are negligible (4 MiB: 0.58–0.85 of hashlib, against 0.47–0.63 with 1 MiB), small enough for memory (three in flight).
READ_BYTES = 4 * 1024 * 1024


def unreadable_upload(exc: MultiPartParserError) -> str:
    """The one answer to a body that could not be parsed, on every page that takes a file."""
    return f"The upload could not be read ({str(exc).strip().rstrip('.')}). Nothing was stored."


class _OverlappedHash:
    """SHA-256 of a stream of chunks, each hashed on one helper thread while the caller goes on.

    At most one chunk is in flight: the next ``update`` waits for the previous one, so the chunks
    are hashed in order and memory holds two chunks at most. The chunks must not change after they
    are handed over (the parser's read buffers are immutable ``bytes``).
    """

    def __init__(self):
        self._hasher = hashlib.sha256()
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="evidence-hash")
        self._pending: Future | None = None

    def update(self, chunk) -> None:
        self._wait()
        self._pending = self._thread.submit(self._hasher.update, chunk)

    def hexdigest(self) -> str:
        self._wait()
        self.close()
        return self._hasher.hexdigest()

    def close(self) -> None:
        self._thread.shutdown(wait=True, cancel_futures=True)

    def _wait(self) -> None:
        if self._pending is not None:
            self._pending.result()
            self._pending = None


class _DirectWrites:
    """Write a file's bytes with ``O_DIRECT``, through one page-aligned block that collects them.

    ``O_DIRECT`` wants the memory, the offset and the length of every write aligned to the device's
    blocks; the bytes arrive as arbitrary slices, so they are copied into the block (a memory copy,
    far cheaper than the page-cache write it replaces) and written when it is full. The last block
    is padded to the alignment and the file cut back to its real size. ``open`` returns None where
    the file system refuses ``O_DIRECT`` (tmpfs, some network file systems): the caller then writes
    through the page cache as before.
    """

    BLOCK_BYTES = 1024 * 1024
    ALIGNMENT = 4096

    def __init__(self, fd: int):
        self.fd = fd
        self.block = mmap.mmap(-1, self.BLOCK_BYTES)  # anonymous maps are page-aligned
        self.view = memoryview(self.block)
        self.filled = 0
        self.size = 0

    @classmethod
    def open(cls, path: str):
        if not hasattr(os, "O_DIRECT"):
            return None
        try:
            fd = os.open(path, os.O_WRONLY | os.O_DIRECT)
        except OSError:
            return None
        writer = cls(fd)
        try:
            # Some file systems accept the flag and refuse the first write instead: try one block now.
            os.write(fd, writer.view[: cls.ALIGNMENT])
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
        except OSError:
            writer.close()
            return None
        return writer

    def write(self, data) -> None:
        data = memoryview(data)
        while data:
            take = min(len(data), self.BLOCK_BYTES - self.filled)
            self.view[self.filled:self.filled + take] = data[:take]
            self.filled += take
            self.size += take
            data = data[take:]
            if self.filled == self.BLOCK_BYTES:
                self._write_block(self.BLOCK_BYTES)

    def finish(self) -> None:
        """Write what is left and cut the padding off; the file then holds exactly the bytes written."""
        if self.filled:
            padded = -(-self.filled // self.ALIGNMENT) * self.ALIGNMENT
            self.view[self.filled:padded] = bytes(padded - self.filled)
            self._write_block(padded)
        os.ftruncate(self.fd, self.size)
        self.close()

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
            self.view.release()
            self.block.close()

    def _write_block(self, length: int) -> None:
        written = 0
        while written < length:
            written += os.write(self.fd, self.view[written:length])
        self.filled = 0


class _BufferedWrites:
    """The page-cache fallback of ``_DirectWrites``, with the same three methods."""

    def __init__(self, file):
        self.write = file.write

    def finish(self) -> None:
        pass

    def close(self) -> None:
        pass


class HashedUpload(TemporaryUploadedFile):
    """An uploaded file on disk with the server's SHA-256 and the name exactly as received."""

    def __init__(self, *, original_name: str, content_type: str, charset, content_type_extra):
        # The original name is not given to the temporary file: an arbitrary "extension" of a
        # hostile name must not reach the file system, not even as a suffix.
        super().__init__("evidence.upload", content_type, 0, charset, content_type_extra)
        self.original_name = original_name
        self.sha256 = ""


class EvidenceUploadHandler(FileUploadHandler):
    chunk_size = 1024 * 1024

    def __init__(self, request=None, *, max_bytes: int | None = None):
        super().__init__(request)
        self.max_bytes = settings.IRT_EVIDENCE_MAX_BYTES if max_bytes is None else max_bytes
        self.refusal = ""
        # No ``file`` attribute until a file starts: the parser closes ``handler.file`` if present.
        self._hasher = None
        self._writes = None

    def _refuse(self) -> str:
        return (
            f"The file is larger than the evidence limit of {byte_size(self.max_bytes)} "
            f"({self.max_bytes:,} bytes); nothing was stored. Split it or ask an admin to raise IRT_EVIDENCE_MAX_BYTES."
        )

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length and content_length > self.max_bytes + FORM_OVERHEAD_BYTES:
            # Known too large from the request headers: refuse before writing a byte. The fields
            # before the file are still read, so the CSRF token in the body reaches the check.
            self.refusal = self._refuse()
        return _StreamingForm(self, boundary, encoding or settings.DEFAULT_CHARSET).parse(input_data)

    def new_file(self, field_name, file_name, content_type, content_length, charset=None, content_type_extra=None):
        super().new_file(field_name, file_name, content_type, content_length, charset, content_type_extra)
        if self.refusal:
            # Leave the rest of the body unread rather than receive gigabytes only to drop them.
            raise StopUpload(connection_reset=True)
        if hasattr(self, "file"):
            self.refusal = "Attach one file per upload."
            self._discard()
            raise StopUpload(connection_reset=False)
        self.file = HashedUpload(
            original_name=file_name, content_type=content_type, charset=charset, content_type_extra=content_type_extra
        )
        self._hasher = _OverlappedHash()
        self._writes = _DirectWrites.open(self.file.temporary_file_path()) or _BufferedWrites(self.file)

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > self.max_bytes:
            self.refusal = self._refuse()
            self._discard()
            # What remains is at most the form overhead; read it so the browser gets the answer.
            raise StopUpload(connection_reset=False)
        self._hasher.update(raw_data)
        self._writes.write(raw_data)
        return None

    def file_complete(self, file_size):
        self._writes.finish()
        self.file.seek(0)
        self.file.size = file_size
        self.file.sha256 = self._hasher.hexdigest()
        return self.file

    def upload_interrupted(self):
        self._discard()

    def _discard(self) -> None:
        """Close the temporary file, which removes it, and the hashing thread."""
        if self._hasher is not None:
            self._hasher.close()
        if self._writes is not None:
            self._writes.close()
        if hasattr(self, "file"):
            self.file.close()


def _sanitize_file_name(file_name: str) -> str | None:
    """Return the file name without any path, as Django's ``MultiPartParser.sanitize_file_name`` does."""
    file_name = html.unescape(file_name).rsplit("/")[-1].rsplit("\\")[-1]
    file_name = "".join(char for char in file_name if char.isprintable())
    return None if file_name in {"", ".", ".."} else file_name


def _drain(input_data) -> None:
    """Read the rest of the body, so the client is answered rather than cut off mid-send."""
    while input_data.read(READ_BYTES):
        pass


class _StreamingForm:
    """Parse one multipart body into ``(POST, FILES)``, the file through the handler's methods."""

    def __init__(self, handler: EvidenceUploadHandler, boundary: bytes, encoding: str):
        self.handler = handler
        self.encoding = encoding
        self.post = QueryDict(mutable=True, encoding=encoding)
        self.files = MultiValueDict()
        self.ended = False
        self.field_count = 0
        self.field_bytes = 0  # counted as Django counts them against DATA_UPLOAD_MAX_MEMORY_SIZE
        self._reset_part()
        self.parser = MultipartParser(boundary, {
            "on_part_begin": self._reset_part,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
            "on_end": self._end,
        })

    def parse(self, input_data) -> tuple[QueryDict, MultiValueDict]:
        try:
            while not self.ended and (chunk := input_data.read(READ_BYTES)):
                self.parser.write(chunk)
            if not self.ended:
                raise MultiPartParserError("The body ended before its closing boundary.")
            _drain(input_data)
        except StopUpload as stop:
            # A refusal (too large, a second file): the handler says why; no file is kept.
            self._close_files()
            if not stop.connection_reset:
                _drain(input_data)
            self.files = MultiValueDict()
        except FormParserError as exc:
            self._close_files()
            raise MultiPartParserError(f"Malformed multipart body: {exc}.") from exc
        except BaseException:
            # A limit, a client gone mid-body, a full disk: the temporary file must not linger.
            self._close_files()
            raise
        self.post._mutable = False
        return self.post, self.files

    def _close_files(self) -> None:
        self.handler.upload_interrupted()
        for _, files in self.files.lists():
            for file in files:
                file.close()

    def _reset_part(self) -> None:
        self.headers = {}
        self.header_bytes = 0
        self.header_name = bytearray()
        self.header_value = bytearray()
        self.kind = None  # "field", "file" or None for a part that is skipped
        self.name = ""
        self.transfer_encoding = None
        self.value = bytearray()
        self.file_size = 0

    def _count_header(self, size: int) -> None:
        self.header_bytes += size
        if self.header_bytes > MAX_TOTAL_HEADER_SIZE:
            raise MultiPartParserError("Request max total header size exceeded.")

    def _header_field(self, data, start, end) -> None:
        self._count_header(end - start)
        self.header_name += data[start:end]

    def _header_value(self, data, start, end) -> None:
        self._count_header(end - start)
        self.header_value += data[start:end]

    def _header_end(self) -> None:
        self._count_header(4)  # ": " and CRLF, as Django counts the header block
        line, self.header_name, self.header_value = self.header_name + b": " + self.header_value, bytearray(), bytearray()
        # Parsed line by line exactly as MultiPartParser does; an unreadable line is ignored.
        try:
            main_value_pair, params = parse_header_parameters(line.decode())
            name, value = main_value_pair.split(":", 1)
        except ValueError:
            return
        self.headers[name] = value, {key: param.encode() for key, param in params.items()}

    def _headers_finished(self) -> None:
        disposition = self.headers.get("content-disposition")
        name = disposition[1].get("name") if disposition else None
        if name is None:
            return
        self.name = force_str(name.strip(), self.encoding, errors="replace")
        if "content-transfer-encoding" in self.headers:
            self.transfer_encoding = self.headers["content-transfer-encoding"][0].strip()
        file_name = disposition[1].get("filename")
        if not file_name:
            self.field_count += 1
            limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
            if limit is not None and self.field_count > limit:
                raise TooManyFieldsSent("The number of GET/POST parameters exceeded settings.DATA_UPLOAD_MAX_NUMBER_FIELDS.")
            self.kind = "field"
            self._count_field_bytes(len(self.name) + 2)
            return
        file_name = _sanitize_file_name(force_str(file_name, self.encoding, errors="replace"))
        if not file_name:
            return
        if self.transfer_encoding == "base64":
            # RFC 7578 §4.7: senders must not use it; no browser does.
            raise MultiPartParserError("A Content-Transfer-Encoding on the file is not accepted.")
        content_type, content_type_extra = self.headers.get("content-type", ("", {}))
        # Raises StopUpload on a refusal: already too large, or a second file.
        self.handler.new_file(
            self.name, file_name, content_type.strip(), None, content_type_extra.get("charset"), content_type_extra
        )
        self.kind = "file"

    def _count_field_bytes(self, size: int) -> None:
        self.field_bytes += size
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and self.field_bytes > limit:
            raise RequestDataTooBig("Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE.")

    def _part_data(self, data, start, end) -> None:
        if self.kind == "file":
            # A view of the parser's buffer: hashed and written without copying it.
            self.handler.receive_data_chunk(memoryview(data)[start:end], self.file_size)
            self.file_size += end - start
        elif self.kind == "field":
            self._count_field_bytes(end - start)
            self.value += data[start:end]

    def _part_end(self) -> None:
        if self.kind == "file":
            self.files.appendlist(self.name, self.handler.file_complete(self.file_size))
        elif self.kind == "field":
            data = bytes(self.value)
            if self.transfer_encoding == "base64":
                try:
                    data = base64.b64decode(data)
                except binascii.Error:
                    pass
            self.post.appendlist(self.name, force_str(data, self.encoding, errors="replace"))
        self._reset_part()

    def _end(self) -> None:
        self.ended = True
