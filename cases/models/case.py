"""The case and its lifecycle: the five-stage security incident process as a state machine.

The transitions below are the only way ``status`` changes (the field is protected). Each
carries a ``conditions`` guard built from a ``*_blockers()`` method, so the question "why can't
I?" and the guard share one rule, and a ``permission`` callable from ``cases.access``. Services
in ``cases.services.lifecycle`` call them inside a locked transaction and write the timeline.
"""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from cases import access, hooks


class Service(models.Model):
    """A cloud service that can be affected by a case (the catalogue is kept in admin)."""

    name = models.CharField(max_length=120, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ReferenceCounter(models.Model):
    """Last case number used per year; its row lock makes references gap-tolerant but unique."""

    year = models.PositiveIntegerField(unique=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"


class Case(ConcurrentTransitionMixin, models.Model):
    class Status(models.TextChoices):
        # First indication: an alert, a customer report, a researcher, an internal finding.
        DETECTED = "detected", "Detected"
        # An on-call responder owns it and assesses impact and severity.
        ASSESSING = "assessing", "Assessing"
        # Technical and forensic investigation of a confirmed incident.
        DIAGNOSING = "diagnosing", "Diagnosing"
        # Contain, stabilize and recover; teams may return to diagnosing.
        STABILIZING = "stabilizing", "Stabilizing"
        # Closed after the post-incident review was approved.
        CLOSED = "closed", "Closed"
        # Not (our) security incident: false positive, customer's responsibility, duplicate.
        DISMISSED = "dismissed", "Dismissed"

    class Source(models.TextChoices):
        ALERT = "alert", "Automated alert"
        CUSTOMER_REPORT = "customer_report", "Customer report"
        RESEARCHER = "researcher", "Security researcher"
        INTERNAL = "internal", "Internal finding"

    class Severity(models.TextChoices):
        CRITICAL = "critical", "Critical"
        HIGH = "high", "High"
        MEDIUM = "medium", "Medium"
        LOW = "low", "Low"

    SEVERITY_HELP = {
        Severity.CRITICAL: "Customer data confirmed lost, altered or disclosed, or a core service compromised. Page everyone.",
        Severity.HIGH: "Likely customer impact or an attacker with a foothold; work it around the clock.",
        Severity.MEDIUM: "Limited impact, contained to one service or tenant; work it in business hours.",
        Severity.LOW: "No customer impact expected; track and fix.",
    }

    class Classification(models.TextChoices):
        FALSE_POSITIVE = "false_positive", "False positive"
        SECURITY_INCIDENT = "security_incident", "Security incident"
        CUSTOMER_REPORTABLE = "customer_reportable", "Customer reportable security/privacy incident"
        PRIVACY_BREACH = "privacy_breach", "Privacy breach"

    class BreachCategory(models.TextChoices):
        NONE = "none", "None"
        PRIVACY = "privacy", "Privacy breach"
        PROPRIETARY = "proprietary", "Proprietary breach"
        INTEGRITY = "integrity", "Integrity loss"

    class Scope(models.TextChoices):
        PROVIDER = "provider", "Provider"
        CUSTOMER = "customer", "Customer"
        SHARED = "shared", "Shared"

    class DismissalReason(models.TextChoices):
        FALSE_POSITIVE = "false_positive", "False positive"
        NOT_SECURITY = "not_security", "Not a security incident"
        CUSTOMER_RESPONSIBILITY = "customer_responsibility", "Customer's responsibility"
        DUPLICATE = "duplicate", "Duplicate of another case"

    reference = models.CharField(max_length=20, unique=True, editable=False)
    title = models.CharField(max_length=200)
    internal_summary = models.TextField(blank=True, help_text="Internal only. Never shown to customers.")
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.ALERT)
    severity = models.CharField(max_length=10, choices=Severity.choices, blank=True)
    classification = models.CharField(max_length=30, choices=Classification.choices, blank=True)
    breach_category = models.CharField(max_length=20, choices=BreachCategory.choices, default=BreachCategory.NONE)
    scope = models.CharField(
        "shared-responsibility scope", max_length=10, choices=Scope.choices, blank=True
    )
    affected_services = models.ManyToManyField(Service, blank=True, related_name="cases")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="owned_cases"
    )
    restricted = models.BooleanField(
        default=False, help_text="Only members see a restricted case; managers too unless added as members."
    )
    # Set and released only through ``cases.services.legal_hold.set_legal_hold``; while it is on,
    # no evidence bytes of the case may be purged, not even by an admin.
    legal_hold = models.BooleanField(default=False, editable=False)
    legal_hold_reason = models.TextField(blank=True, editable=False)
    status = FSMField(max_length=20, choices=Status.choices, default=Status.DETECTED, protected=True)
    # Hash of the newest timeline event, so removing events from the end is detected too.
    timeline_head = models.CharField(max_length=64, blank=True, editable=False)
    # Incremented by every service that changes the case; forms carry it to detect stale edits.
    version = models.PositiveIntegerField(default=1)

    detected_at = models.DateTimeField(default=timezone.now)
    assessed_at = models.DateTimeField(null=True, blank=True)
    contained_at = models.DateTimeField(null=True, blank=True)
    recovered_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    dismissed_at = models.DateTimeField(null=True, blank=True)
    breach_declared_at = models.DateTimeField(null=True, blank=True)

    dismissal_reason = models.CharField(max_length=30, choices=DismissalReason.choices, blank=True)
    duplicate_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-detected_at", "-id"]
        indexes = [models.Index(fields=["status", "-detected_at"])]
        permissions = [
            ("work_case", "Can open cases and work on cases they own or are members of"),
            ("read_all_cases", "Can read every unrestricted case"),
            ("manage_case", "Can act on every unrestricted case, close, reopen and declare breaches"),
            ("approve_communication", "Can approve what customers read"),
            ("view_incident", "Can read the customer incident page (granted per case to affected organisations)"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("cases:detail", args=[self.reference])

    # -- derived values ---------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self.status not in (self.Status.CLOSED, self.Status.DISMISSED)

    @property
    def severity_help(self) -> str:
        return self.SEVERITY_HELP.get(self.severity, "")

    def _since_detected(self, moment) -> timedelta | None:
        return moment - self.detected_at if moment else None

    @property
    def time_to_assess(self) -> timedelta | None:
        return self._since_detected(self.assessed_at)

    @property
    def time_to_contain(self) -> timedelta | None:
        return self._since_detected(self.contained_at)

    @property
    def time_to_close(self) -> timedelta | None:
        return self._since_detected(self.closed_at or self.dismissed_at)

    # -- yes/no questions: the reasons an action is blocked -----------------------------

    def start_assessment_blockers(self) -> list[str]:
        return [] if self.owner_id else ["Assign an owner: someone must be on point for the assessment."]

    def start_diagnosis_blockers(self) -> list[str]:
        reasons = []
        if not self.severity:
            reasons.append("Set a severity.")
        if not self.affected_services.exists():
            reasons.append("Name at least one affected service.")
        if not self.scope:
            reasons.append("Set the shared-responsibility scope (provider, customer or shared).")
        return reasons

    def close_blockers(self) -> list[str]:
        reasons = []
        open_mandatory = self.tasks.filter(mandatory=True, done_at__isnull=True).count()
        if open_mandatory:
            reasons.append(
                f"{open_mandatory} mandatory task{'s are' if open_mandatory != 1 else ' is'} still open."
            )
        review = getattr(self, "review", None) if self.pk else None
        if review is None:
            reasons.append("Write the post-incident review.")
        elif not review.is_approved:
            reasons.append("The post-incident review is not approved yet.")
        reasons.extend(hooks.close_blockers(self))
        return reasons

    def declare_breach_blockers(self) -> list[str]:
        reasons = []
        if self.status not in (self.Status.DIAGNOSING, self.Status.STABILIZING):
            reasons.append("A breach can be declared only while diagnosing or stabilizing.")
        if self.breach_declared_at:
            reasons.append("A breach was already declared on this case.")
        if not self.affected_customers.active().breached().exists():
            reasons.append("Add at least one affected customer whose data was lost, altered or disclosed.")
        return reasons

    # -- transitions ---------------------------------------------------------------------
    # Bodies stamp the case's own fields only; the service saves and writes the timeline.

    @transition(
        field=status,
        source=Status.DETECTED,
        target=Status.ASSESSING,
        conditions=[lambda case: not case.start_assessment_blockers()],
        permission=access.can_work_on_case,
    )
    def start_assessment(self) -> None:
        pass

    @transition(
        field=status,
        source=Status.ASSESSING,
        target=Status.DIAGNOSING,
        conditions=[lambda case: not case.start_diagnosis_blockers()],
        permission=access.can_work_on_case,
    )
    def start_diagnosis(self) -> None:
        self.assessed_at = timezone.now()

    @transition(
        field=status,
        source=[Status.DETECTED, Status.ASSESSING],
        target=Status.DISMISSED,
        permission=access.can_work_on_case,
    )
    def dismiss(self, *, reason: str, duplicate_of: "Case | None" = None) -> None:
        self.dismissal_reason = reason
        self.duplicate_of = duplicate_of
        self.dismissed_at = timezone.now()

    @transition(
        field=status,
        source=Status.DIAGNOSING,
        target=Status.STABILIZING,
        permission=access.can_work_on_case,
    )
    def stabilize(self) -> None:
        if self.contained_at is None:
            self.contained_at = timezone.now()

    @transition(
        field=status,
        source=Status.STABILIZING,
        target=Status.DIAGNOSING,
        permission=access.can_work_on_case,
    )
    def resume_diagnosis(self) -> None:
        pass

    @transition(
        field=status,
        source=Status.STABILIZING,
        target=Status.CLOSED,
        conditions=[lambda case: not case.close_blockers()],
        permission=access.can_manage_case,
    )
    def close(self) -> None:
        now = timezone.now()
        self.recovered_at = self.recovered_at or now
        self.closed_at = now

    @transition(
        field=status,
        source=Status.CLOSED,
        target=Status.DIAGNOSING,
        permission=access.can_manage_case,
    )
    def reopen(self) -> None:
        self.closed_at = None


class CaseUserObjectPermission(UserObjectPermissionBase):
    """Per-case rights of a user; ``view_case`` on a case makes the user a member."""

    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)


class CaseGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)
