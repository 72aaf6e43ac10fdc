"""Evidence actions: add, download, verify, supersede and export, each a custody record.

Every action checks permission through ``cases.access`` and writes its ``EvidenceAccess`` row(s)
and its timeline event in one transaction with the case locked. Reading or writing gigabytes
happens before that transaction opens (hashing from storage, moving the upload into storage),
so a large item never holds the case lock, nor SQLite's write lock, for the length of a copy;
the recording step is the ``@transaction.atomic`` part.

Legal hold and the admin-only purge of stored bytes are in ``cases.services.legal_hold``.
"""

import hashlib
import re
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from cases.access.permissions import can_view_case, can_work_on_case
from cases.models.exceptions import ActionRefused, NotAllowed
from cases.models import Case, Evidence, EvidenceAccess
from cases.models.evidence import evidence_storage
from cases.services.timeline import append_event, lock_case
from cases.services.evidence_uploads import HashedUpload
from irt.sizes import byte_size

CHUNK_BYTES = 1024 * 1024
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
Action = EvidenceAccess.Action


@dataclass
class VerifyResult:
    checked: int = 0
    failed: list[Evidence] = field(default_factory=list)
    # Items whose bytes were purged: nothing to hash, and not a failure.
    purged: list[Evidence] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed


def _require_view(case: Case, by) -> None:
    if not can_view_case(by, case):
        raise NotAllowed("You cannot see this case's evidence.")


def _require_work(case: Case, by) -> None:
    if not can_work_on_case(case, by):
        raise NotAllowed("You can read this case's evidence but not change it.")


def describe_purge(evidence: Evidence) -> str:
    """Return when, by whom and why the item's bytes were purged, for messages and manifests."""
    who = evidence.purged_by.get_username() if evidence.purged_by_id else "an admin"
    return (f"{evidence.label}'s stored bytes were purged on {evidence.purged_at:%Y-%m-%d %H:%M} UTC by {who}: "
            f"{evidence.purge_reason} Its record, SHA-256 and custody trail remain.")


def _refresh_purge(evidence: Evidence) -> None:
    """Read the purge columns again; call with the case locked, since purges lock it too."""
    fresh = Evidence.objects.select_related("purged_by").get(pk=evidence.pk)
    evidence.purged_at, evidence.purged_by, evidence.purge_reason = fresh.purged_at, fresh.purged_by, fresh.purge_reason


def normalize_declared_sha256(value: str) -> str:
    """Return the declared hash as 64 lowercase hex digits, or "" when none was given."""
    value = (value or "").strip().lower()
    if value.startswith("sha256:"):
        value = value[len("sha256:"):].strip()
    if value and not _HEX64.match(value):
        raise ActionRefused("The declared SHA-256 must be 64 hexadecimal characters (as printed by sha256sum).")
    return value


def hash_file(content) -> tuple[str, int]:
    """Return the SHA-256 and size of a file object, read one chunk at a time."""
    hasher = hashlib.sha256()
    size = 0
    while chunk := content.read(CHUNK_BYTES):
        hasher.update(chunk)
        size += len(chunk)
    return hasher.hexdigest(), size


def hash_stored(evidence: Evidence) -> tuple[str, int] | None:
    """Return the SHA-256 and size of the stored bytes, or None when they are missing."""
    try:
        with evidence_storage().open(evidence.stored_name, "rb") as content:
            return hash_file(content)
    except FileNotFoundError:
        return None


def _stored_name(case: Case) -> str:
    return f"evidence/{case.pk}/{uuid.uuid4().hex}"


def _custody(*, evidence: Evidence, action: str, by, event, sha256: str = "", note: str = "") -> EvidenceAccess:
    return EvidenceAccess.objects.create(
        evidence=evidence,
        action=action,
        at=event.at,
        actor=by,
        actor_name=by.get_username() if by else "",
        sha256=sha256,
        note=note,
        timeline_event=event,
    )


def _origin_data(client_address: str | None, user_agent: str) -> dict:
    return {"client_address": client_address, "user_agent": user_agent[:255]} if client_address or user_agent else {}


def _origin_note(client_address: str | None, user_agent: str) -> str:
    if not client_address and not user_agent:
        return ""
    return f"Requested from {client_address or 'an unknown address'} with {user_agent[:255] or 'no user agent'}."


def add_evidence(
    *,
    case: Case,
    by,
    content: File,
    original_name: str,
    description: str = "",
    collected_at=None,
    collected_where: str = "",
    collected_by: str = "",
    declared_sha256: str = "",
    may_add=_require_work,
    then=None,
) -> Evidence:
    """Store the file under a server-generated name and record it; refuse a mismatched declared hash.

    ``content`` is normally the ``HashedUpload`` of ``EvidenceUploadHandler``, whose SHA-256 the
    server computed while it streamed; any other file is hashed here, one chunk at a time.
    ``may_add(case, by)`` refuses who may not add (staff who work the case, unless a caller such as
    a customer's upload asks its own question); ``then(case, evidence, event)`` runs in the recording
    transaction.
    """
    may_add(case, by)
    declared = normalize_declared_sha256(declared_sha256)
    if isinstance(content, HashedUpload) and content.sha256:
        sha256, size = content.sha256, content.size
    else:
        content.seek(0)
        sha256, size = hash_file(content)
    if size > settings.IRT_EVIDENCE_MAX_BYTES:
        raise ActionRefused(
            f"The file is larger than the evidence limit of {byte_size(settings.IRT_EVIDENCE_MAX_BYTES)}; nothing was stored."
        )
    if declared and declared != sha256:
        raise ActionRefused(
            f"The file's SHA-256 is {sha256}, not the declared {declared}: it changed on the way or the "
            "declared hash belongs to another file. Nothing was stored; check the copy and upload it again."
        )
    # PostgreSQL cannot store NUL in text; it is the one character of a name not kept verbatim.
    original_name = (original_name or "").replace("\x00", "\ufffd") or "unnamed"

    content.seek(0)
    wanted = _stored_name(case)
    storage = evidence_storage()
    stored = storage.save(wanted, content)
    try:
        if stored != wanted:
            raise RuntimeError(f"evidence storage saved {wanted!r} as {stored!r}")
        return _record_added(
            case=case, by=by, stored_name=stored, original_name=original_name, size=size, sha256=sha256,
            declared_sha256=declared, description=description.strip(), collected_at=collected_at,
            collected_where=collected_where.strip(), collected_by=collected_by.strip(), may_add=may_add, then=then,
        )
    except BaseException:
        # The row did not commit, so the bytes must not stay either.
        storage.delete(stored)
        raise


@transaction.atomic
def _record_added(*, case: Case, by, stored_name: str, original_name: str, size: int, sha256: str, may_add, then,
                  **details) -> Evidence:
    locked = lock_case(case)
    may_add(locked, by)
    duplicates = list(Evidence.objects.filter(case=locked, sha256=sha256).values_list("pk", flat=True))
    evidence = Evidence.objects.create(
        case=locked, original_name=original_name, stored_name=stored_name, size=size, sha256=sha256,
        uploaded_by=by, uploaded_at=timezone.now(), **details,
    )
    text = f"Evidence added: {evidence.label} {evidence.display_name} ({size:,} bytes, SHA-256 {sha256})."
    if size == 0:
        text += " The file is empty."
    if duplicates:
        text += " Same bytes as " + ", ".join(f"EV-{pk}" for pk in duplicates) + "."
    event = append_event(
        case=locked, actor=by, kind=Action.ADDED, text=text,
        data={"evidence": evidence.pk, "original_name": original_name, "size": size, "sha256": sha256,
              "declared_sha256": details["declared_sha256"], "stored_name": stored_name, "duplicate_of": duplicates},
    )
    _custody(evidence=evidence, action=Action.ADDED, by=by, event=event, sha256=sha256)
    if then is not None:
        then(locked, evidence, event)
    return evidence


@transaction.atomic
def record_download(*, evidence: Evidence, by, client_address: str | None = None, user_agent: str = "") -> EvidenceAccess:
    """Record that ``by`` is about to receive the item's bytes; call before streaming them.

    ``client_address`` and ``user_agent`` name the request that asked for them, so the custody
    trail says where the copy went, not only whose session sent it.
    """
    # Permission is asked of the locked row: membership may have changed since the caller read it.
    locked = lock_case(evidence.case)
    _require_view(locked, by)
    _refresh_purge(evidence)
    if evidence.is_purged:
        raise ActionRefused(f"{describe_purge(evidence)} There is nothing to download.")
    event = append_event(
        case=locked, actor=by, kind=Action.DOWNLOADED,
        text=f"Evidence downloaded: {evidence.label} {evidence.display_name}.",
        data={"evidence": evidence.pk, "sha256": evidence.sha256, **_origin_data(client_address, user_agent)},
    )
    return _custody(evidence=evidence, action=Action.DOWNLOADED, by=by, event=event,
                    note=_origin_note(client_address, user_agent))


def _describe_mismatch(evidence: Evidence, seen: tuple[str, int] | None) -> str:
    if seen is None:
        return "the stored file is missing"
    sha256, size = seen
    return f"the stored bytes now hash to {sha256} ({size:,} bytes), not {evidence.sha256} ({evidence.size:,} bytes)"


def _record_check(*, evidence: Evidence, by, seen: tuple[str, int] | None, during: str, event_if_ok: bool, now):
    """Flag the item and write the custody row; a mismatch always gets its own timeline event."""
    ok = seen is not None and seen == (evidence.sha256, evidence.size)
    Evidence.objects.filter(pk=evidence.pk).update(last_verified_at=now, integrity_ok=ok)
    evidence.last_verified_at, evidence.integrity_ok = now, ok
    event = None
    if not ok:
        event = append_event(
            case=evidence.case, actor=by, kind=Action.MISMATCH,
            text=f"Evidence failed verification during {during}: {evidence.label} {evidence.display_name}: "
                 f"{_describe_mismatch(evidence, seen)}. Treat it as altered; do not rely on it.",
            data={"evidence": evidence.pk, "expected": evidence.sha256, "seen": seen[0] if seen else None,
                  "size_seen": seen[1] if seen else None, "during": during},
        )
    elif event_if_ok:
        event = append_event(
            case=evidence.case, actor=by, kind=Action.VERIFIED,
            text=f"Evidence verified: {evidence.label} {evidence.display_name} still matches SHA-256 {evidence.sha256}.",
            data={"evidence": evidence.pk, "sha256": evidence.sha256},
        )
    EvidenceAccess.objects.create(
        evidence=evidence, action=Action.VERIFIED if ok else Action.MISMATCH, at=now, actor=by,
        actor_name=by.get_username() if by else "", sha256=seen[0] if seen else "",
        note="" if ok else f"During {during}: {_describe_mismatch(evidence, seen)}.", timeline_event=event,
    )
    return ok


@transaction.atomic
def record_mismatch(*, evidence: Evidence, by, seen: tuple[str, int] | None, during: str) -> None:
    """Flag an item whose bytes were found changed while streaming them (download, export)."""
    evidence.case = lock_case(evidence.case)
    _record_check(evidence=evidence, by=by, seen=seen, during=during, event_if_ok=False, now=timezone.now())


def verify_evidence(*, evidence: Evidence, by=None) -> bool:
    """Re-hash the stored bytes and record the result; ``by=None`` is the system (a command)."""
    if by is not None:
        _require_work(evidence.case, by)
    seen = None if evidence.is_purged else hash_stored(evidence)
    with transaction.atomic():
        evidence.case = lock_case(evidence.case)
        if by is not None:
            _require_work(evidence.case, by)
        _refresh_purge(evidence)
        if evidence.is_purged:
            raise ActionRefused(f"Purged, not altered: {describe_purge(evidence)} There is nothing to verify.")
        return _record_check(evidence=evidence, by=by, seen=seen, during="verification", event_if_ok=True, now=timezone.now())


def verify_all(*, case: Case, by=None) -> VerifyResult:
    """Re-hash every item of the case and record one summary event plus one per failure."""
    if by is not None:
        _require_work(case, by)
    items = list(case.evidence.order_by("pk"))
    result = VerifyResult()
    if not items:
        return result
    seen = {item.pk: hash_stored(item) for item in items if not item.is_purged}
    with transaction.atomic():
        locked = lock_case(case)
        if by is not None:
            _require_work(locked, by)
        # A purge locks the case too, so this is the purge state the hashes are judged against.
        purged = set(Evidence.objects.filter(case=locked, purged_at__isnull=False).values_list("pk", flat=True))
        now = timezone.now()
        for item in items:
            item.case = locked
            if item.pk in purged:
                _refresh_purge(item)
                result.purged.append(item)
                continue
            result.checked += 1
            if not _record_check(evidence=item, by=by, seen=seen.get(item.pk), during="verification", event_if_ok=False, now=now):
                result.failed.append(item)
        checked = [item for item in items if item.pk not in purged]
        if result.failed:
            text = (f"Evidence verification: {len(result.failed)} of {len(checked)} items failed: "
                    + ", ".join(item.label for item in result.failed) + ".")
        elif checked:
            text = f"Evidence verification: all {len(checked)} items match their SHA-256."
        else:
            text = "Evidence verification: nothing to check."
        data = {"checked": [item.pk for item in checked], "failed": [item.pk for item in result.failed]}
        if result.purged:
            text += " Purged, not checked: " + ", ".join(item.label for item in result.purged) + "."
            data["purged"] = [item.pk for item in result.purged]
        append_event(case=locked, actor=by, kind=Action.VERIFIED, text=text, data=data)
    return result


@transaction.atomic
def supersede_evidence(*, evidence: Evidence, by, reason: str) -> Evidence:
    """Mark the item as not to be relied on, with a reason; its bytes and record stay."""
    locked = lock_case(evidence.case)
    _require_work(locked, by)
    reason = (reason or "").strip()
    if not reason:
        raise ActionRefused("Say why the item is superseded (for example: wrong host, replaced by EV-12).")
    evidence = Evidence.objects.select_for_update().get(pk=evidence.pk, case=locked)
    if evidence.is_superseded:
        raise ActionRefused(f"{evidence.label} was already superseded on {evidence.superseded_at:%Y-%m-%d %H:%M} UTC.")
    evidence.superseded_at = timezone.now()
    evidence.superseded_by = by
    evidence.superseded_reason = reason
    evidence.save(update_fields=["superseded_at", "superseded_by", "superseded_reason"])
    event = append_event(
        case=locked, actor=by, kind=Action.SUPERSEDED,
        text=f"Evidence superseded: {evidence.label} {evidence.display_name}. Reason: {reason}",
        data={"evidence": evidence.pk, "reason": reason},
    )
    _custody(evidence=evidence, action=Action.SUPERSEDED, by=by, event=event, note=reason)
    return evidence


@transaction.atomic
def record_export(*, case: Case, by, client_address: str | None = None, user_agent: str = "") -> list[Evidence]:
    """Record an export of every item of the case and return them; call before building the archive."""
    locked = lock_case(case)
    _require_view(locked, by)
    items = list(locked.evidence.select_related("uploaded_by", "superseded_by", "purged_by").order_by("pk"))
    if not items:
        raise ActionRefused("There is no evidence to export yet.")
    purged = [item for item in items if item.is_purged]
    total = sum(item.size for item in items if not item.is_purged)
    text = f"Evidence exported: {len(items)} item{'s' if len(items) != 1 else ''}, {total:,} bytes, as a zip archive with a manifest."
    data = {"evidence": [item.pk for item in items], "bytes": total, **_origin_data(client_address, user_agent)}
    if purged:
        text += " Purged, listed without a file: " + ", ".join(item.label for item in purged) + "."
        data["purged"] = [item.pk for item in purged]
    event = append_event(case=locked, actor=by, kind=Action.EXPORTED, text=text, data=data)
    for item in items:
        note = " ".join(filter(None, [
            "Record only: the stored bytes were purged." if item.is_purged else "", _origin_note(client_address, user_agent),
        ]))
        _custody(evidence=item, action=Action.EXPORTED, by=by, event=event, note=note)
    return items


# -- Legal hold and purge ---------------------------------------------------------------
