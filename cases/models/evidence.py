"""Evidence attached to a case and its chain of custody (RFC 3227 §4.1, NIST SP 800-86 §3.1.1).

An item is write-once: its bytes live in the dedicated ``evidence`` storage under a name the
server generates, its SHA-256 is computed by the server while the upload streams, and nothing
on the site edits or deletes it. A wrong item is superseded with a reason and stays. The one
deletion is an admin's purge of the stored bytes, which keeps the row, its hashes and its
custody trail and is refused while the case is on legal hold. Every touch (upload, download,
verification, export, supersession, purge) is an ``EvidenceAccess`` row and a timeline event
written in the same transaction (``cases.services.evidence``).
"""

import unicodedata

from django.core.files.storage import storages
from django.db import models
from django.utils import timezone

from cases.models.fields import case_field, happened, user_field
from cases.models.timeline import TimelineEvent

EVIDENCE_STORAGE = "evidence"


def evidence_storage():
    """Return the storage evidence bytes live in (``STORAGES["evidence"]``)."""
    return storages[EVIDENCE_STORAGE]


def printable_name(name: str, *, limit: int | None = None) -> str:
    """Return the name with control and format characters shown as U+FFFD, shortened to ``limit``."""
    shown = "".join("\ufffd" if unicodedata.category(char)[0] == "C" else char for char in name)
    if limit is not None and len(shown) > limit:
        shown = shown[: limit - 1] + "…"
    return shown


class Evidence(models.Model):
    case = case_field("evidence")
    # As the collector named it; for display and the download name only, never a path.
    original_name = models.TextField()
    # Server-generated ("evidence/<case id>/<uuid4 hex>"); the only name the storage sees.
    stored_name = models.CharField(max_length=255, unique=True, editable=False)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField("SHA-256", max_length=64, help_text="Computed by the server while the upload streamed.")
    declared_sha256 = models.CharField(
        "declared SHA-256", max_length=64, blank=True, help_text="What the collector said the hash was, if they said."
    )
    description = models.TextField(blank=True)
    collected_at = models.DateTimeField(null=True, blank=True)
    collected_where = models.CharField(max_length=300, blank=True, help_text="Host, account, region or path it came from.")
    collected_by = models.CharField(max_length=200, blank=True, help_text="Who collected it (may be outside the team).")
    uploaded_by = user_field()
    uploaded_at = models.DateTimeField(default=timezone.now)
    superseded_at = models.DateTimeField(null=True, blank=True)
    superseded_by = user_field(optional=True)
    superseded_reason = models.TextField(blank=True)
    last_verified_at = models.DateTimeField(null=True, blank=True)
    # None until the first verification; False once the stored bytes stopped matching ``sha256``.
    integrity_ok = models.BooleanField(null=True, blank=True)
    # Set when an admin purged the stored bytes (retention limit, erasure request); the row,
    # its hashes and its custody trail stay. Refused while the case is on legal hold.
    purged_at = models.DateTimeField(null=True, blank=True)
    purged_by = user_field(optional=True)
    purge_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["case", "uploaded_at", "id"]
        verbose_name_plural = "evidence"
        indexes = [models.Index(fields=["case", "sha256"])]

    def __str__(self) -> str:
        return f"{self.label} {printable_name(self.original_name, limit=80)}"

    @property
    def label(self) -> str:
        return f"EV-{self.pk}"

    @property
    def display_name(self) -> str:
        return printable_name(self.original_name, limit=200)

    is_superseded = happened("superseded_at")
    is_purged = happened("purged_at")

    @property
    def is_empty(self) -> bool:
        return self.size == 0


class EvidenceAccess(models.Model):
    """One touch of one evidence item: the custody log, append-only like the timeline."""

    # The timeline's evidence event kinds, values and labels alike, so the custody log and the
    # timeline read the same and cannot drift apart.
    Action = models.TextChoices("Action", [
        (kind.name.removeprefix("EVIDENCE_"), (kind.value, kind.label))
        for kind in TimelineEvent.Kind if kind.name.startswith("EVIDENCE_")
    ])

    evidence = models.ForeignKey(Evidence, on_delete=models.PROTECT, related_name="custody")
    action = models.CharField(max_length=30, choices=Action.choices)
    at = models.DateTimeField(default=timezone.now)
    actor = user_field(optional=True)
    actor_name = models.CharField(max_length=150, blank=True)
    # The hash of the bytes seen on this touch, when the touch read them.
    sha256 = models.CharField("SHA-256 seen", max_length=64, blank=True)
    note = models.TextField(blank=True)
    timeline_event = models.ForeignKey(
        TimelineEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["evidence", "at", "id"]
        verbose_name_plural = "evidence accesses"

    def __str__(self) -> str:
        return f"EV-{self.evidence_id} {self.action} by {self.actor_name or 'system'}"
