"""Receive an evidence upload: hash it while it streams to a temporary file, within a size limit.

The whole file never sits in memory (one chunk at a time) and the SHA-256 is the server's own,
computed over exactly the bytes written. An upload over ``IRT_EVIDENCE_MAX_BYTES`` is refused
and its temporary file removed; ``refusal`` then says why, for the view to show.
"""

import hashlib

from django.conf import settings
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload

from irt.sizes import byte_size

# Room for the form fields and multipart boundaries around the file itself.
FORM_OVERHEAD_BYTES = 1024 * 1024


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

    def _refuse(self) -> str:
        return (
            f"The file is larger than the evidence limit of {byte_size(self.max_bytes)} "
            f"({self.max_bytes:,} bytes); nothing was stored. Split it or ask an admin to raise IRT_EVIDENCE_MAX_BYTES."
        )

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length and content_length > self.max_bytes + FORM_OVERHEAD_BYTES:
            # Known too large from the request headers: refuse before writing a byte.
            self.refusal = self._refuse()
        return None

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
        self._hasher = hashlib.sha256()

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > self.max_bytes:
            self.refusal = self._refuse()
            self._discard()
            # What remains is at most the form overhead; read it so the browser gets the answer.
            raise StopUpload(connection_reset=False)
        self._hasher.update(raw_data)
        self.file.write(raw_data)
        return None

    def file_complete(self, file_size):
        self.file.seek(0)
        self.file.size = file_size
        self.file.sha256 = self._hasher.hexdigest()
        return self.file

    def upload_interrupted(self):
        self._discard()

    def _discard(self) -> None:
        """Close the temporary file, which removes it."""
        if hasattr(self, "file"):
            self.file.close()
