"""Detections from SIEMs and the provider's own telemetry, grouped for triage.

An ``Alert`` is one detection as its source reported it (``(source, source_ref)`` is its identity,
so a connector's retry is a replay, not a second alert). Alerts that share a correlation key, or
observables or resources within a window, fall into one ``AlertGroup``; a responder promotes the
group to a case, attaches it to a case, or dismisses it. ``Observable`` values are normalised
(``cases.services.alert_formats.normalise_observable``) so the same indicator is one row whatever
its spelling; cases reach them through ``CaseObservable``.
"""

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.urls import reverse

from cases.models.case import Case
from cases.models.fields import case_field, user_field

SEVERITY_RANK = {Case.Severity.CRITICAL: 0, Case.Severity.HIGH: 1, Case.Severity.MEDIUM: 2, Case.Severity.LOW: 3}


def highest_severity(*severities: str) -> str:
    """Return the most severe of the given severities (``Case.Severity`` values)."""
    return min((s for s in severities if s), key=SEVERITY_RANK.__getitem__, default=Case.Severity.LOW)


class AlertGroup(models.Model):
    class Status(models.TextChoices):
        # Waiting in the triage queue.
        NEW = "new", "New"
        # A responder opened a case from it.
        PROMOTED = "promoted", "Promoted to a case"
        # A responder added it to an existing case.
        ATTACHED = "attached", "Attached to a case"
        # Not worth a case: false positive, benign or duplicate.
        DISMISSED = "dismissed", "Dismissed"

    class DismissalReason(models.TextChoices):
        FALSE_POSITIVE = "false_positive", "False positive"
        BENIGN = "benign", "Benign (expected activity)"
        DUPLICATE = "duplicate", "Duplicate"

    title = models.CharField(max_length=300)
    # Source-supplied key; empty for groups formed by shared observables or resources.
    correlation_key = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)
    severity = models.CharField(max_length=10, choices=Case.Severity.choices)
    # 0 = critical … 3 = low, so the queue orders by an index instead of a CASE expression.
    severity_rank = models.PositiveSmallIntegerField()
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    alert_count = models.PositiveIntegerField(default=0)
    case = case_field("alert_groups", optional=True)
    handled_by = user_field(optional=True)
    handled_at = models.DateTimeField(null=True, blank=True)
    dismissal_reason = models.CharField(max_length=20, choices=DismissalReason.choices, blank=True)
    dismissal_note = models.TextField(blank=True)

    class Meta:
        ordering = ["severity_rank", "first_seen_at", "id"]
        indexes = [models.Index(fields=["status", "severity_rank", "first_seen_at"], name="alertgroup_queue")]
        constraints = [
            # One waiting group per source-supplied key: concurrent intakes of the same key meet here.
            models.UniqueConstraint(
                fields=["correlation_key"],
                condition=models.Q(status="new") & ~models.Q(correlation_key=""),
                name="alertgroup_one_new_group_per_key",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["new", "dismissed"], case__isnull=True)
                | models.Q(status__in=["promoted", "attached"], case__isnull=False),
                name="alertgroup_case_matches_status",
            ),
        ]

    def __str__(self) -> str:
        return f"Alert group {self.pk}: {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("alerts:group", args=[self.pk])

    @property
    def is_waiting(self) -> bool:
        return self.status == self.Status.NEW


class AlertGroupIndicator(models.Model):
    """An observable or resource a group has seen, once per group: what correlation looks up.

    One row per (group, indicator) rather than per alert, so finding the waiting group of a busy
    indicator reads a handful of rows however many alerts carried it.
    """

    group = models.ForeignKey(AlertGroup, on_delete=models.CASCADE, related_name="indicators")
    # "o:<observable id>" or "r:<resource id>".
    indicator = models.CharField(max_length=1100)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["indicator", "group"], name="alertgroup_indicator_unique")]

    def __str__(self) -> str:
        return f"{self.group_id} {self.indicator}"


class Observable(models.Model):
    class Kind(models.TextChoices):
        IP = "ip", "IP address"
        DOMAIN = "domain", "Domain"
        URL = "url", "URL"
        FILE_HASH = "file_hash", "File hash"
        EMAIL = "email", "Email address"
        USER_ACCOUNT = "user_account", "User account"
        CLOUD_RESOURCE = "cloud_resource", "Cloud resource"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    value = models.CharField(max_length=2048)
    first_seen_at = models.DateTimeField(auto_now_add=True)
    cases = models.ManyToManyField(Case, through="CaseObservable", related_name="observables")

    class Meta:
        ordering = ["kind", "value"]
        constraints = [models.UniqueConstraint(fields=["kind", "value"], name="observable_unique_kind_value")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.value}"

    def get_absolute_url(self) -> str:
        return reverse("alerts:observable", args=[self.pk])


class Alert(models.Model):
    class Source(models.TextChoices):
        SENTINEL = "sentinel", "Microsoft Sentinel"
        SPLUNK = "splunk", "Splunk"
        ELASTIC = "elastic", "Elastic Security"
        WAZUH = "wazuh", "Wazuh"
        OCSF = "ocsf", "OCSF"
        CUSTOM = "custom", "Custom"

    source = models.CharField(max_length=20, choices=Source.choices)
    source_ref = models.CharField("source reference", max_length=200)
    title = models.CharField(max_length=300)
    severity = models.CharField(max_length=10, choices=Case.Severity.choices)
    description = models.TextField(blank=True)
    observed_at = models.DateTimeField()
    received_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    seen_count = models.PositiveIntegerField(default=1)
    # The payload as the source sent it, when it fits IRT_ALERT_RAW_MAX_BYTES; ``raw_size`` says
    # how big it was either way, so a dropped payload is visible rather than silently missing.
    raw = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    raw_size = models.PositiveIntegerField(default=0)
    correlation_key = models.CharField(max_length=200, blank=True)
    # Null while the alert waits for correlation (IRT_ALERT_CORRELATION = "deferred"): stored, not yet
    # grouped; ``pending`` then holds its normalised observables and resources for the correlator.
    group = models.ForeignKey(AlertGroup, on_delete=models.PROTECT, related_name="alerts", null=True, blank=True)
    pending = models.JSONField(null=True, blank=True)
    observables = models.ManyToManyField(Observable, blank=True, related_name="alerts")
    received_by = user_field()

    class Meta:
        ordering = ["observed_at", "id"]
        constraints = [models.UniqueConstraint(fields=["source", "source_ref"], name="alert_unique_source_ref")]
        indexes = [
            models.Index(fields=["received_at"], name="alert_received_at"),
            models.Index(fields=["id"], condition=models.Q(group__isnull=True), name="alert_awaiting_correlation"),
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display()} {self.source_ref}: {self.title}"

    @property
    def raw_dropped(self) -> bool:
        return self.raw is None and self.raw_size > 0


class AlertSource(models.Model):
    """A webhook-only sender allowed to post signed alerts to ``/api/v1/intake/<slug>/``.

    The secret is a Standard Webhooks secret (``whsec_`` + base64); it is kept in Django admin and
    shown there once, like any other credential a sender is configured with.
    """

    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=120)
    source = models.CharField(max_length=20, choices=Alert.Source.choices, help_text="The source its alerts are recorded under.")
    secret = models.CharField(max_length=200, help_text="Standard Webhooks secret (whsec_…).")
    enabled = models.BooleanField(default=True)
    # Alerts arrive as this user, so they pass the same intake rule as a token's user.
    service_account = user_field()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name


class AlertResource(models.Model):
    """A cloud resource or tenant an alert names; ``tenant_id`` is what maps it to an organisation."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="resources")
    resource_id = models.CharField(max_length=1000)
    # Lower-case tenant, subscription, account or project id derived from the resource (or given).
    tenant_id = models.CharField(max_length=200, blank=True, db_index=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.resource_id


class CaseObservable(models.Model):
    case = case_field("case_observables")
    observable = models.ForeignKey(Observable, on_delete=models.PROTECT, related_name="case_links")
    added_by = user_field()
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["observable__kind", "observable__value"]
        constraints = [models.UniqueConstraint(fields=["case", "observable"], name="case_observable_unique")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.observable_id}"

