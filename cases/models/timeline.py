"""The append-only, hash-chained record of everything that happened to a case.

Each event stores the hash of the previous event of its case and a hash over its own content,
so a changed, removed or reordered row breaks the chain (``manage.py verify_timeline``). On
PostgreSQL a trigger refuses UPDATE and DELETE (migration 0002).
"""

import hashlib
import json

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


def genesis_hash(reference: str) -> str:
    return hashlib.sha256(f"IRT timeline {reference}".encode()).hexdigest()


class TimelineEvent(models.Model):
    class Kind(models.TextChoices):
        OPENED = "opened", "Case opened"
        TRANSITION = "transition", "Stage changed"
        REFUSED = "refused", "Action refused"
        NOTE = "note", "Note"
        DETAILS_CHANGED = "details_changed", "Details changed"
        OWNER_CHANGED = "owner_changed", "Owner changed"
        MEMBER_ADDED = "member_added", "Member added"
        MEMBER_REMOVED = "member_removed", "Member removed"
        TASK_ADDED = "task_added", "Task added"
        TASK_DONE = "task_done", "Task done"
        TASK_REOPENED = "task_reopened", "Task reopened"
        CUSTOMER_ADDED = "customer_added", "Affected customer added"
        CUSTOMER_CHANGED = "customer_changed", "Affected customer changed"
        CUSTOMER_REMOVED = "customer_removed", "Affected customer removed"
        CUSTOMER_CONFIRMED = "customer_confirmed", "Affected customer confirmed"
        CUSTOMER_WITHDRAWN = "customer_withdrawn", "Affected customer withdrawn"
        CUSTOMER_NOTIFIED = "customer_notified", "Customer notified"
        NOTICE_RECORDED = "notice_recorded", "Out-of-band notice recorded"
        NOTICE_APPROVED = "notice_approved", "Out-of-band notice approved"
        BREACH_DECLARED = "breach_declared", "Breach declared"
        PLAYBOOK_APPLIED = "playbook_applied", "Playbook applied"
        STEP_SKIPPED = "step_skipped", "Playbook step skipped"
        CLOCK_DECISION = "clock_decision", "Clock decision recorded"
        CLOCK_STARTED = "clock_started", "Clock started"
        CLOCK_SUBMITTED = "clock_submitted", "Clock submission recorded"
        CLOCK_CLOSE_OVERRIDE = "clock_close_override", "Clock overridden for closing"
        DEADLINE_DELAY_REQUESTED = "delay_requested", "Deadline delay requested"
        DEADLINE_DELAY_APPROVED = "delay_approved", "Deadline delay approved"
        DEADLINE_MET = "deadline_met", "Deadline met"
        REVIEW_SAVED = "review_saved", "Post-incident review saved"
        REVIEW_APPROVED = "review_approved", "Post-incident review approved"
        UPDATE_DRAFTED = "update_drafted", "Customer update drafted"
        UPDATE_PUBLISHED = "update_published", "Customer update published"
        PUBLIC_REVIEW_SAVED = "public_review_saved", "Customer review saved"
        PUBLIC_REVIEW_PUBLISHED = "public_review_published", "Customer review published"
        REPAIR_CHANGED = "repair_changed", "Repair item changed"
        LEGAL_HOLD = "legal_hold", "Legal hold changed"
        ALERTS_PROMOTED = "alerts_promoted", "Opened from alerts"
        ALERTS_ATTACHED = "alerts_attached", "Alerts attached"
        # Evidence custody events share their values with EvidenceAccess.Action.
        EVIDENCE_ADDED = "evidence_added", "Evidence added"
        EVIDENCE_DOWNLOADED = "evidence_downloaded", "Evidence downloaded"
        EVIDENCE_VERIFIED = "evidence_verified", "Evidence verified"
        EVIDENCE_MISMATCH = "evidence_mismatch", "Evidence failed verification"
        EVIDENCE_SUPERSEDED = "evidence_superseded", "Evidence superseded"
        EVIDENCE_EXPORTED = "evidence_exported", "Evidence exported"
        EVIDENCE_PURGED = "evidence_purged", "Evidence bytes purged"

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="timeline")
    sequence = models.PositiveIntegerField()
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The actor's username when the event was written; part of the hash, so renames don't break it.
    actor_name = models.CharField(max_length=150, blank=True)
    kind = models.CharField(max_length=30, choices=Kind.choices)
    text = models.TextField()
    data = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["case", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["case", "sequence"], name="timeline_sequence_unique_per_case")
        ]

    def __str__(self) -> str:
        return f"{self.case_id}#{self.sequence} {self.kind}"

    def compute_hash(self) -> str:
        """Hash the event's content with the previous hash; the input is canonical JSON."""
        content = {
            "case": self.case_id,
            "sequence": self.sequence,
            "at": self.at.isoformat(timespec="microseconds"),
            "actor": self.actor_id,
            "actor_name": self.actor_name,
            "kind": self.kind,
            "text": self.text,
            # Round-trip through JSON so what is hashed equals what the database returns.
            "data": json.loads(json.dumps(self.data, cls=DjangoJSONEncoder)),
            "previous_hash": self.previous_hash,
        }
        canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()
