"""Legal hold on a case, and the one deletion evidence allows: an admin purging stored bytes.

The purge keeps the record, its hashes and its custody trail; a legal hold refuses it even to
an admin. Both take the case row lock, so a hold and a purge never overlap.
"""

from django.db import transaction
from django.utils import timezone

from cases.access.permissions import can_manage_case, can_view_case
from cases.models.exceptions import ActionRefused, NotAllowed
from cases.models import Case, Evidence, EvidenceAccess, TimelineEvent
from cases.models.evidence import evidence_storage
from cases.services.evidence import _custody, describe_purge
from cases.services.timeline import append_event, lock_case

Action = EvidenceAccess.Action


@transaction.atomic
def set_legal_hold(*, case: Case, by, hold: bool, reason: str) -> Case:
    """Place or release the case's legal hold, with a reason; incident managers and admins only."""
    locked = lock_case(case)
    if not can_view_case(by, locked):
        raise NotAllowed("You cannot see this case.")
    if not can_manage_case(locked, by):
        raise NotAllowed("Only an incident manager or an admin can place or release a legal hold.")
    reason = (reason or "").strip()
    if not reason:
        raise ActionRefused("Say why (for example: litigation hold notice from Legal, ticket LEGAL-142).")
    if locked.legal_hold == hold:
        raise ActionRefused(f"{locked.reference} is already {'on' if hold else 'not on'} legal hold; nothing changed.")
    locked.legal_hold = hold
    locked.legal_hold_reason = reason
    locked.save(update_fields=["legal_hold", "legal_hold_reason", "updated_at"])
    verb = "placed" if hold else "released"
    append_event(
        case=locked, actor=by, kind=TimelineEvent.Kind.LEGAL_HOLD,
        text=f"Legal hold {verb}. Reason: {reason}",
        data={"legal_hold": hold, "reason": reason},
    )
    case.legal_hold, case.legal_hold_reason = locked.legal_hold, locked.legal_hold_reason
    return locked


@transaction.atomic
def purge_evidence(*, evidence: Evidence, by, reason: str) -> Evidence:
    """Delete the item's stored bytes for good, keeping its row, hashes and custody trail; admins only.

    Refused while the case is on legal hold. The hold is read from the locked case row and
    ``set_legal_hold`` takes the same lock, so a hold placed at the same moment either comes
    first (and the purge is refused) or waits until the bytes are gone and recorded.
    """
    if not (by is not None and by.is_active and by.is_superuser):
        raise NotAllowed("Only an admin can purge evidence bytes.")
    locked = lock_case(evidence.case)
    if locked.legal_hold:
        raise ActionRefused(
            f"{locked.reference} is on legal hold: nothing may be purged, not even by an admin. "
            f"Hold reason: {locked.legal_hold_reason}"
        )
    reason = (reason or "").strip()
    if not reason:
        raise ActionRefused("Say why the bytes are purged (for example: malware retention limit, erasure request ER-7).")
    evidence = Evidence.objects.select_for_update(of=("self",)).select_related("purged_by").get(pk=evidence.pk, case=locked)
    if evidence.is_purged:
        raise ActionRefused(f"Already purged: {describe_purge(evidence)}")
    storage = evidence_storage()
    was_there = storage.exists(evidence.stored_name)
    evidence.purged_at = timezone.now()
    evidence.purged_by = by
    evidence.purge_reason = reason
    evidence.save(update_fields=["purged_at", "purged_by", "purge_reason"])
    text = f"Evidence bytes purged: {evidence.label} {evidence.display_name} ({evidence.size:,} bytes, SHA-256 {evidence.sha256}). Reason: {reason}"
    if not was_there:
        text += " The stored file was already missing."
    event = append_event(
        case=locked, actor=by, kind=Action.PURGED, text=text,
        data={"evidence": evidence.pk, "reason": reason, "sha256": evidence.sha256, "stored_name": evidence.stored_name,
              "file_was_present": was_there},
    )
    _custody(evidence=evidence, action=Action.PURGED, by=by, event=event, note=reason)
    # Last, inside the transaction: a failed delete rolls the record back. Should the commit
    # itself fail after this, the bytes are gone unrecorded and verification reports them missing.
    storage.delete(evidence.stored_name)
    return evidence
