"""The append-only, hash-chained record of everything that happened to a case.

Each event stores the hash of the previous event of its case and a hash over its own content,
so a changed, removed or reordered row breaks the chain (``manage.py verify_timeline``). On
PostgreSQL a trigger refuses UPDATE and DELETE (migration 0002).

The hash is an HMAC keyed with ``IRT_TIMELINE_KEY``, which lives in the environment or a file and
never in the database: someone who can rewrite the table (and disable the trigger) cannot
recompute a chain that verifies. Signed checkpoints of each head, kept outside the database
(``cases.services.timeline_checkpoints``), cover a thief of the key too.
"""

import hashlib
import hmac
import json

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from cases.models.fields import case_field, user_field


def genesis_hash(reference: str) -> str:
    return hashlib.sha256(f"IRT timeline {reference}".encode()).hexdigest()


def timeline_key() -> bytes:
    """Return the chain's HMAC key (``IRT_TIMELINE_KEY``); read per call, so tests can swap it."""
    if not settings.IRT_TIMELINE_KEY:
        raise ImproperlyConfigured("IRT_TIMELINE_KEY is not set; set it or IRT_TIMELINE_KEY_FILE (see the README).")
    return settings.IRT_TIMELINE_KEY.encode()


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
        # Evidence custody events; EvidenceAccess.Action is made from these (the EVIDENCE_ prefix dropped).
        EVIDENCE_ADDED = "evidence_added", "Evidence added"
        EVIDENCE_DOWNLOADED = "evidence_downloaded", "Evidence downloaded"
        EVIDENCE_VERIFIED = "evidence_verified", "Evidence verified"
        EVIDENCE_MISMATCH = "evidence_mismatch", "Evidence failed verification"
        EVIDENCE_SUPERSEDED = "evidence_superseded", "Evidence superseded"
        EVIDENCE_EXPORTED = "evidence_exported", "Evidence exported"
        EVIDENCE_PURGED = "evidence_purged", "Evidence bytes purged"
        # A case report (internal or customer version) left the system; data holds its SHA-256.
        REPORT_GENERATED = "report_generated", "Case report generated"
        # Questions from a customer's incident page and our answers (cases.services.customer_questions).
        QUESTION_ASKED = "question_asked", "Customer asked a question"
        QUESTION_REPLY_DRAFTED = "question_reply_drafted", "Reply to a customer awaiting approval"
        QUESTION_ANSWERED = "question_answered", "Customer question answered"

    case = case_field("timeline")
    sequence = models.PositiveIntegerField()
    at = models.DateTimeField()
    actor = user_field(optional=True)
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
        # Recent activity across cases (the dashboard) reads newest first; without it, every event is scanned.
        indexes = [
            models.Index(fields=["-at", "-id"], name="timeline_newest_first"),
            # The case page's timeline filtered by kind: a window of one kind without walking the whole case.
            models.Index(fields=["case", "kind", "-sequence"], name="timeline_case_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}#{self.sequence} {self.kind}"

    def get_kind_display(self) -> str:
        """Return the kind's label.

        Django's generated method builds a dict of all choices on every call; a case page asks once per event.
        """
        try:
            return self.Kind(self.kind).label
        except ValueError:
            return self.kind

    def canonical_content(self) -> bytes:
        """Return what the hash covers: the event's content and the previous hash, as canonical JSON."""
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
        return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    def compute_hash(self, *, key: bytes | None = None) -> str:
        """Return HMAC-SHA256 of the canonical content, keyed with ``IRT_TIMELINE_KEY`` unless ``key`` is given."""
        return hmac.new(timeline_key() if key is None else key, self.canonical_content(), hashlib.sha256).hexdigest()
