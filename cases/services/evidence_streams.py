"""Streaming evidence out: one item re-hashed on the way, or a zip archive with a manifest.

Both read the storage one chunk at a time, so memory stays flat for multi-gigabyte items. The
download holds back its last chunk until the hash is known: if the bytes no longer match, the
item is flagged and the stream breaks before it completes, so the receiver never holds a
complete-looking copy of altered evidence.
"""

import hashlib
import json
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterator
from urllib.parse import quote

from django.core.serializers.json import DjangoJSONEncoder

from cases.models.evidence import evidence_storage

CHUNK_BYTES = 1024 * 1024
MAX_DOWNLOAD_NAME = 150
_UNSAFE_ASCII = re.compile(r"[^A-Za-z0-9._ -]")


class EvidenceAltered(Exception):
    """The stored bytes stopped matching the recorded SHA-256 while they were being sent."""


def download_name(original_name: str) -> str:
    """Return the name to offer the browser: no path separators or control characters, bounded."""
    name = "".join(
        "_" if char in "/\\" or unicodedata.category(char)[0] == "C" else char for char in original_name
    ).strip() or "evidence"
    if len(name) > MAX_DOWNLOAD_NAME:
        stem, dot, ext = name.rpartition(".")
        if dot and stem and len(ext) <= 16:
            name = stem[: MAX_DOWNLOAD_NAME - len(ext) - 1] + "." + ext
        else:
            name = name[:MAX_DOWNLOAD_NAME]
    return name


def ascii_name(name: str) -> str:
    """Return a plain-ASCII stand-in for the name (for old clients and archive member names)."""
    # Accents fold onto their letter; anything else outside plain ASCII becomes "_".
    folded = "".join(char for char in unicodedata.normalize("NFKD", name) if unicodedata.category(char) != "Mn")
    folded = _UNSAFE_ASCII.sub("_", folded).strip(" ").lstrip(".")
    return folded or "evidence"


def attachment_disposition(original_name: str) -> str:
    """Return a Content-Disposition for an attachment with both RFC 6266 name forms.

    Not ``django.utils.http.content_disposition_header``: it gives a non-ASCII name only as
    ``filename*`` (so a client without RFC 5987 support offers no name at all) and puts ``"`` and
    ``\\`` into the quoted ``filename`` as escapes, which some browsers take literally. Here the
    plain ``filename`` is always a folded ASCII stand-in with neither, and ``filename*`` the name.
    """
    name = download_name(original_name)
    return f"attachment; filename=\"{ascii_name(name)}\"; filename*=UTF-8''{quote(name, safe='')}"


def verified_stream(evidence, *, on_mismatch: Callable[[tuple[str, int]], None]) -> Iterator[bytes]:
    """Yield the stored bytes; call ``on_mismatch`` and break the stream if they no longer match."""
    hasher = hashlib.sha256()
    sent = 0
    with evidence_storage().open(evidence.stored_name, "rb") as handle:
        chunk = handle.read(CHUNK_BYTES)
        while chunk:
            hasher.update(chunk)
            sent += len(chunk)
            following = handle.read(CHUNK_BYTES) if sent <= evidence.size else b""
            if not following:
                break
            yield chunk
            chunk = following
        seen = (hasher.hexdigest(), sent)
        if seen != (evidence.sha256, evidence.size):
            on_mismatch(seen)
            raise EvidenceAltered(f"EV-{evidence.pk}: stored bytes no longer match SHA-256 {evidence.sha256}")
        if chunk:
            yield chunk


class _Pipe:
    """An unseekable sink for ``zipfile``: the archive is written to it and drained chunk by chunk."""

    def __init__(self):
        self._parts: list[bytes] = []

    def write(self, data) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def drain(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def archive_member_name(evidence) -> str:
    return f"evidence/{evidence.label}_{ascii_name(download_name(evidence.original_name))[:100]}"


def _custody_entry(row) -> dict:
    return {"at": row.at, "action": row.action, "actor": row.actor_name or "system", "sha256_seen": row.sha256,
            "note": row.note, "timeline_event": row.timeline_event_id}


def zip_stream(*, case, items, exported_by: str, exported_at, custody: dict,
               on_mismatch: Callable[[object, tuple[str, int] | None], None]) -> Iterator[bytes]:
    """Yield a zip archive of the items (stored, not compressed) with manifest.json written last.

    The manifest lists each item's recorded and re-computed SHA-256 and its custody trail, the
    export itself included; it is last so it can say whether each item was intact when read.
    An item whose bytes were purged is listed as purged, with no file in the archive.
    """
    pipe = _Pipe()
    entries = []
    storage = evidence_storage()
    with zipfile.ZipFile(pipe, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for item in items:
            member = archive_member_name(item)
            entry = {
                "id": item.label,
                "original_name": item.original_name,
                "archive_name": member,
                "size": item.size,
                "sha256": item.sha256,
                "declared_sha256": item.declared_sha256 or None,
                "description": item.description,
                "collected_at": item.collected_at,
                "collected_where": item.collected_where,
                "collected_by": item.collected_by,
                "uploaded_by": item.uploaded_by.get_username(),
                "uploaded_at": item.uploaded_at,
                "superseded_at": item.superseded_at,
                "superseded_reason": item.superseded_reason or None,
                "purged_at": item.purged_at,
                "purged_by": item.purged_by.get_username() if item.purged_by_id else None,
                "purge_reason": item.purge_reason or None,
            }
            if item.purged_at is not None:
                # Purged on purpose: listed with its recorded hashes, no file, and not "altered".
                entries.append({**entry, "archive_name": None, "sha256_at_export": None, "intact": None, "purged": True,
                                "problem": "The stored bytes were purged; the record and hashes remain.",
                                "custody": [_custody_entry(r) for r in custody[item.pk]]})
                continue
            entry["purged"] = False
            hasher = hashlib.sha256()
            size = 0
            try:
                handle = storage.open(item.stored_name, "rb")
            except FileNotFoundError:
                on_mismatch(item, None)
                entries.append({**entry, "archive_name": None, "sha256_at_export": None, "intact": False,
                                "problem": "The stored file is missing.", "custody": [_custody_entry(r) for r in custody[item.pk]]})
                continue
            info = zipfile.ZipInfo(member, date_time=item.uploaded_at.utctimetuple()[:6])
            info.compress_type = zipfile.ZIP_STORED
            info.file_size = item.size
            with handle, archive.open(info, mode="w", force_zip64=item.size >= 1024**3) as out:
                while chunk := handle.read(CHUNK_BYTES):
                    hasher.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
                    yield from _drained(pipe)
            yield from _drained(pipe)
            seen = (hasher.hexdigest(), size)
            intact = seen == (item.sha256, item.size)
            if not intact:
                on_mismatch(item, seen)
            entries.append({**entry, "sha256_at_export": seen[0], "intact": intact,
                            "custody": [_custody_entry(r) for r in custody[item.pk]]})
        manifest = {
            "case": case.reference,
            "exported_at": exported_at,
            "exported_by": exported_by,
            "hash_algorithm": "SHA-256",
            "note": "sha256 was computed by IRT when the item was uploaded; sha256_at_export when this archive was written.",
            "items": entries,
        }
        archive.writestr("manifest.json", json.dumps(manifest, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False))
    yield from _drained(pipe)


def _drained(pipe: _Pipe) -> Iterator[bytes]:
    # An empty chunk would end a chunked response early on some servers.
    if data := pipe.drain():
        yield data
