"""The case and its lifecycle: the five-stage security incident process as a state machine.

The transitions below are the only way ``status`` changes (the field is protected). Each
carries a ``conditions`` guard built from a ``*_blockers()`` method, so the question "why can't
I?" and the guard share one rule, a ``permission`` callable from ``cases.access``, and in
``custom`` how the UI offers it (label, help, what it asks for, confirmation, danger); the UI
lists actions from django-fsm's own transition list. Services in ``cases.services.lifecycle``
call them inside a locked transaction and write the timeline.

Concurrency: services lock the row (``select_for_update``) and check the ``version`` the user
saw. django-fsm's ``ConcurrentTransitionMixin`` (an UPDATE filtered on the status read) is not
used: every transition runs on the row just read under that lock, so its check could never fail.
"""

from datetime import timedelta

from django.db import models
from django.urls import reverse
from django.utils import timezone
from django_fsm import FSMField, FSMModelMixin, transition
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from cases.access.permissions import MEMBER_PERMISSION, can_manage_case, can_work_on_case
from cases.models import hooks
from cases.models.blockers import Blocker
from cases.models.deadlines import Deadline
from cases.models.fields import user_field


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


class CaseQuerySet(models.QuerySet):
    def open(self):
        """Cases still being worked: neither closed nor dismissed (``Case.is_open``)."""
        return self.exclude(status__in=Case.FINISHED)

    def finished(self):
        """Closed or dismissed cases."""
        return self.filter(status__in=Case.FINISHED)


def stage_transition(*, source, target, permission, blockers: str = "", **custom):
    """Return django-fsm's ``@transition`` of ``Case.status``; ``custom`` is how the UI offers it.

    ``blockers`` names the ``*_blockers`` method that both guards the transition and tells the UI
    why it is refused, so the guard and the reasons it gives are one rule.
    """
    conditions = []
    if blockers:
        conditions.append(lambda case: not getattr(case, blockers)())
        custom["blockers"] = blockers
    return transition(
        field="status", source=source, target=target, conditions=conditions, permission=permission, custom=custom
    )


class Case(FSMModelMixin, models.Model):
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

    # The stages no work happens in; ``is_open`` and ``Case.objects.open()`` ask this one tuple.
    FINISHED = (Status.CLOSED, Status.DISMISSED)
    # The stages a breach can be declared in.
    BREACH_STAGES = (Status.DIAGNOSING, Status.STABILIZING)

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
    owner = user_field(optional=True, related_name="owned_cases")
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
    # The playbook version the case follows (cases.services.playbooks.apply_playbook sets it).
    playbook_version = models.ForeignKey(
        "cases.PlaybookVersion", null=True, blank=True, editable=False, on_delete=models.PROTECT, related_name="cases"
    )

    detected_at = models.DateTimeField(default=timezone.now)
    assessed_at = models.DateTimeField(null=True, blank=True)
    contained_at = models.DateTimeField(null=True, blank=True)
    recovered_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    dismissed_at = models.DateTimeField(null=True, blank=True)
    breach_declared_at = models.DateTimeField(null=True, blank=True)
    # The impact window as the team knows it. Internal: customers read it only from an approved update.
    impact_started_at = models.DateTimeField("impact started", null=True, blank=True)
    impact_ended_at = models.DateTimeField("impact ended", null=True, blank=True)

    dismissal_reason = models.CharField(max_length=30, choices=DismissalReason.choices, blank=True)
    duplicate_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    created_by = user_field()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        ordering = ["-detected_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-detected_at"]),
            # The case list's default order (newest first) and its pages, read from the index instead of a sort.
            models.Index(fields=["-detected_at", "-id"], name="case_newest_first"),
            # Open cases only (status not in Case.FINISHED): the list's default view and the dashboard's queues
            # read as many rows as there are open cases, however many closed ones pile up.
            models.Index(fields=["-detected_at", "-id"], name="case_open_newest_first",
                         condition=~models.Q(status__in=["closed", "dismissed"])),
        ]
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
        return self.status not in self.FINISHED

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

    def member_ids(self) -> set[int]:
        """Return the ids of the case's members (cached on the instance; the owner is not counted)."""
        if getattr(self, "_member_ids", None) is None:
            self._member_ids = set(self.membership_rows().filter(content_object=self).values_list("user_id", flat=True))
        return self._member_ids

    @staticmethod
    def membership_rows():
        """Every case's memberships: the ``view_case`` object permissions (one row per member and case)."""
        return CaseUserObjectPermission.objects.filter(permission__codename=MEMBER_PERMISSION)

    # -- yes/no questions: the reasons an action is blocked -----------------------------

    def stage_step_blockers(self) -> list[Blocker]:
        """Return one reason per open mandatory playbook step of the current stage.

        Every forward transition out of a working stage asks this. Dismissing and stepping back
        to diagnosing do not: they abandon or revisit the stage rather than finish it.
        """
        open_steps = self.tasks.open().filter(mandatory=True, step__stage=self.status).order_by("step__order", "id")
        return [
            Blocker(
                "open_stage_step",
                f"Finish the mandatory playbook step “{task.title}” first (or an incident manager skips it with a reason).",
            )
            for task in open_steps
        ]

    def clock_close_blockers(self) -> list[Blocker]:
        """Return one reason per regulatory clock still running with no manager's reason to close anyway.

        The customer notice is left to its own guard (every affected organisation's notice delivered or
        approved, from ``hooks.close_blockers``): that is what meets it, and no reason overrides it.
        """
        running = self.deadlines.filter(met_at__isnull=True, close_override_at__isnull=True).exclude(
            kind=Deadline.Kind.CUSTOMER_NOTICE
        ).order_by("due_at")
        return [
            Blocker(
                "clock_running",
                f"The {clock.get_kind_display()} clock is still running (due {clock.due_at:%Y-%m-%d %H:%M} UTC): "
                "record the submission, or an incident manager records why the case may close anyway.",
            )
            for clock in running
        ]

    def start_assessment_blockers(self) -> list[Blocker]:
        reasons = [] if self.owner_id else [Blocker("no_owner", "Assign an owner: someone must be on point for the assessment.")]
        return reasons + self.stage_step_blockers()

    def start_diagnosis_blockers(self) -> list[Blocker]:
        reasons = []
        if not self.severity:
            reasons.append(Blocker("no_severity", "Set a severity."))
        if not self.affected_services.exists():
            reasons.append(Blocker("no_affected_service", "Name at least one affected service."))
        if not self.scope:
            reasons.append(Blocker("no_scope", "Set the shared-responsibility scope (provider, customer or shared)."))
        return reasons + self.stage_step_blockers()

    def stabilize_blockers(self) -> list[Blocker]:
        return self.stage_step_blockers()

    def close_blockers(self) -> list[Blocker]:
        reasons = self.stage_step_blockers()
        # The current stage's mandatory steps are named above; count the other open mandatory tasks.
        open_mandatory = self.tasks.open().filter(mandatory=True).exclude(step__stage=self.status).count()
        if open_mandatory:
            reasons.append(Blocker(
                "open_mandatory_tasks",
                f"{open_mandatory} mandatory task{'s are' if open_mandatory != 1 else ' is'} still open.",
            ))
        review = getattr(self, "review", None) if self.pk else None
        if review is None:
            reasons.append(Blocker("no_review", "Write the post-incident review."))
        elif not review.is_approved:
            reasons.append(Blocker("review_not_approved", "The post-incident review is not approved yet."))
        reasons.extend(self.clock_close_blockers())
        reasons.extend(Blocker.of(reason) for reason in hooks.close_blockers(self))
        return reasons

    def declare_breach_blockers(self) -> list[Blocker]:
        """Return why a breach cannot be declared now: the one answer for the page, the action list and the service."""
        reasons = []
        if self.status not in self.BREACH_STAGES:
            reasons.append(Blocker("wrong_stage", "A breach can be declared only while diagnosing or stabilizing."))
        if self.breach_declared_at:
            reasons.append(Blocker("already_declared", "A breach was already declared on this case."))
        if not self.affected_customers.active().breached().exists():
            reasons.append(Blocker(
                "no_breached_customer", "Add at least one affected customer whose data was lost, altered or disclosed."
            ))
        return reasons

    def breach_detail_conflicts(self, *, severity: str | None = None, breach_category: str | None = None) -> list[Blocker]:
        """Return how the case's details would disagree with a declared breach.

        ``severity`` and ``breach_category``, when given, are the values the declarer is about to set.
        The one rule the declare-breach page asks about and ``declare_breach`` enforces or records:
        a breach is Critical, names its category, and a "Privacy breach" classification has that category.
        """
        severity = self.severity if severity is None else severity
        category = self.breach_category if breach_category is None else breach_category
        conflicts = []
        if severity != self.Severity.CRITICAL:
            label = self.Severity(severity).label if severity in self.Severity.values else "not set"
            conflicts.append(Blocker(
                "severity_not_critical",
                f"Severity is {label}; with customer data affected it is Critical: {self.SEVERITY_HELP[self.Severity.CRITICAL]}",
            ))
        if category in ("", self.BreachCategory.NONE):
            conflicts.append(Blocker(
                "no_breach_category", "Breach category is None: say whether this is a privacy breach, a proprietary breach or an integrity loss.",
            ))
        elif self.classification == self.Classification.PRIVACY_BREACH and category != self.BreachCategory.PRIVACY:
            conflicts.append(Blocker(
                "classification_disagrees",
                f"Classification is {self.Classification.PRIVACY_BREACH.label}, but the breach category is {self.BreachCategory(category).label}.",
            ))
        return conflicts

    # -- transitions ---------------------------------------------------------------------
    # Bodies stamp the case's own fields only; the service saves and writes the timeline.

    # The keywords after ``permission`` become ``custom`` (read by ``cases.services.lifecycle``): label,
    # help, blockers (the ``*_blockers`` method the guard asks), asks_for (form fields), note_required (the refusal
    # when the note is empty), confirm, danger, secondary (folded away), managers_only, and for
    # an action with its own page: form (URL name), verb, once (a field set when it was done).

    @stage_transition(
        source=Status.DETECTED, target=Status.ASSESSING, permission=can_work_on_case,
        blockers="start_assessment_blockers", label="Start assessment",
        help="Take the case on: the owner assesses impact and severity.",
    )
    def start_assessment(self) -> None:
        pass

    @stage_transition(
        source=Status.ASSESSING, target=Status.DIAGNOSING, permission=can_work_on_case,
        blockers="start_diagnosis_blockers", label="Start diagnosis",
        help="Confirmed security incident: start the technical and forensic investigation.",
    )
    def start_diagnosis(self) -> None:
        self.assessed_at = timezone.now()

    @stage_transition(
        source=[Status.DETECTED, Status.ASSESSING], target=Status.DISMISSED, permission=can_work_on_case,
        label="Dismiss", asks_for=("dismissal_reason", "note"), danger=True, secondary=True,
        note_required="Write a note that explains the dismissal.",
        help="False positive, not a security incident, the customer's responsibility, or a duplicate.",
    )
    def dismiss(self, *, reason: str, duplicate_of: "Case | None" = None) -> None:
        self.dismissal_reason = reason
        self.duplicate_of = duplicate_of
        self.dismissed_at = timezone.now()

    @stage_transition(
        source=Status.DIAGNOSING, target=Status.STABILIZING, permission=can_work_on_case,
        blockers="stabilize_blockers", label="Move to stabilize & recover", asks_for=("note",),
        note_required="Write a containment or recovery note: what stopped the harm, or how recovery starts.",
        help="Say what contained the incident or how recovery starts.",
    )
    def stabilize(self) -> None:
        if self.contained_at is None:
            self.contained_at = timezone.now()

    @stage_transition(
        source=Status.STABILIZING, target=Status.DIAGNOSING, permission=can_work_on_case,
        label="Back to diagnosing", asks_for=("note",), secondary=True,
        note_required="Say why the case goes back to diagnosing.", help="New findings need more investigation.",
    )
    def resume_diagnosis(self) -> None:
        pass

    @stage_transition(
        source=Status.STABILIZING, target=Status.CLOSED, permission=can_manage_case,
        blockers="close_blockers", label="Close case", managers_only=True, asks_for=("note",),
        note_required="Write a closing note.", confirm="Close this case? Customers see it as resolved.",
    )
    def close(self) -> None:
        now = timezone.now()
        self.recovered_at = self.recovered_at or now
        self.closed_at = now

    @stage_transition(
        source=Status.CLOSED, target=Status.DIAGNOSING, permission=can_manage_case,
        label="Reopen", managers_only=True, asks_for=("note",),
        note_required="Give the reason for reopening.", help="Give the reason for reopening.",
    )
    def reopen(self) -> None:
        self.closed_at = None

    # Declaring a breach is an action, not a state (``target=None`` keeps the stage), offered
    # in the same action list; ``cases.services.breach.declare_breach`` runs it with its own form.
    @stage_transition(
        source=list(BREACH_STAGES), target=None, permission=can_manage_case,
        blockers="declare_breach_blockers", label="Declare breach", managers_only=True, danger=True,
        form="cases:declare-breach", verb="declare a breach", once="breach_declared_at",
        help="Customer data was lost, altered or disclosed: record it and start the customer-notice clock.",
    )
    def declare_breach(self, *, now) -> None:
        self.breach_declared_at = now
        if self.classification in ("", self.Classification.SECURITY_INCIDENT, self.Classification.FALSE_POSITIVE):
            self.classification = (self.Classification.PRIVACY_BREACH if self.breach_category == self.BreachCategory.PRIVACY
                                   else self.Classification.CUSTOMER_REPORTABLE)

class CaseUserObjectPermission(UserObjectPermissionBase):
    """Per-case rights of a user; ``view_case`` on a case makes the user a member."""

    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)


class CaseGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)
