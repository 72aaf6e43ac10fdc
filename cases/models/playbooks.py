"""Playbooks: the Standard Operating Procedure, as versioned steps per lifecycle stage.

A ``PlaybookVersion`` says when it applies and holds the steps. Once any case used a version it
is frozen (``frozen_at``): editing makes a new version, so a case always shows the procedure it
actually followed. The rule is enforced in ``cases.services.playbooks`` and in the admin.
"""

from django.db import models

from cases.models.case import Case
from cases.models.fields import happened, user_field

# Steps belong to the stages a case is worked in; closing and dismissal end the work.
WORKING_STAGES = (Case.Status.DETECTED, Case.Status.ASSESSING, Case.Status.DIAGNOSING, Case.Status.STABILIZING)


class Playbook(models.Model):
    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=200)
    purpose = models.TextField(help_text="What the playbook is for, in one or two sentences.")
    auto_apply = models.BooleanField(
        default=False, help_text="Apply automatically to a new case it matches best, without asking."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("playbooks:detail", args=[self.slug])

    @property
    def current_version(self) -> "PlaybookVersion | None":
        """Return the newest version (from the prefetch cache when there is one)."""
        versions = list(self.versions.all())
        return max(versions, key=lambda v: v.number) if versions else None


class PlaybookVersion(models.Model):
    """One version of a playbook: when it applies (blank = any) and its steps."""

    playbook = models.ForeignKey(Playbook, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    classification = models.CharField(max_length=30, blank=True, choices=Case.Classification.choices)
    breach_category = models.CharField(max_length=20, blank=True, choices=Case.BreachCategory.choices)
    source = models.CharField(max_length=20, blank=True, choices=Case.Source.choices)
    affected_service = models.ForeignKey(
        "cases.Service", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    severity = models.CharField(max_length=10, blank=True, choices=Case.Severity.choices)
    created_by = user_field()
    created_at = models.DateTimeField(auto_now_add=True)
    # Stamped the first time a case follows this version; from then on it is never changed.
    frozen_at = models.DateTimeField(null=True, blank=True, editable=False)

    CRITERIA = ("classification", "breach_category", "source", "affected_service", "severity")

    class Meta:
        ordering = ["playbook__name", "-number"]
        constraints = [models.UniqueConstraint(fields=["playbook", "number"], name="one_playbook_version_number")]

    def __str__(self) -> str:
        return f"{self.playbook.name} v{self.number}"

    is_frozen = happened("frozen_at")

    def criteria(self) -> dict:
        """Return the criteria that are set (blank ones match any case)."""
        values = {name: getattr(self, name if name != "affected_service" else "affected_service_id") for name in self.CRITERIA}
        return {name: value for name, value in values.items() if value}

    def match_score(self, *, classification="", breach_category="", source="", severity="", service_ids=()) -> int | None:
        """Return how many criteria the case meets, or None when one it sets does not match."""
        case = {"classification": classification, "breach_category": breach_category, "source": source, "severity": severity}
        score = 0
        for name, value in self.criteria().items():
            if name == "affected_service":
                if value not in set(service_ids):
                    return None
            elif case[name] != value:
                return None
            score += 1
        return score

    def criteria_text(self) -> str:
        parts = []
        for name in self.CRITERIA:
            if name == "affected_service":
                if self.affected_service_id:
                    parts.append(f"service {self.affected_service}")
            elif getattr(self, name):
                parts.append(f"{self._meta.get_field(name).verbose_name} {getattr(self, f'get_{name}_display')().lower()}")
        return ", ".join(parts) or "any case"


class PlaybookStep(models.Model):
    class Role(models.TextChoices):
        RESPONDER = "responder", "Responder"
        MANAGER = "manager", "Incident manager"
        COMMS = "comms", "Communications"

    class NistFunction(models.TextChoices):
        # NIST SP 800-61r3 maps incident response onto these CSF 2.0 functions.
        DETECT = "detect", "Detect"
        RESPOND = "respond", "Respond"
        RECOVER = "recover", "Recover"
        IMPROVE = "improve", "Improve"

    version = models.ForeignKey(PlaybookVersion, on_delete=models.PROTECT, related_name="steps")
    stage = models.CharField(max_length=20, choices=[(s, Case.Status(s).label) for s in WORKING_STAGES])
    order = models.PositiveIntegerField(default=0)
    title = models.CharField(max_length=200)
    guidance = models.TextField(blank=True, help_text="Markdown. How to do it, where to look, what good looks like.")
    mandatory = models.BooleanField(default=False, help_text="The case cannot leave the stage while this step is open.")
    expected_role = models.CharField(max_length=20, choices=Role.choices, default=Role.RESPONDER)
    due_offset = models.DurationField(null=True, blank=True, help_text="Due this long after the case enters the stage.")
    nist_function = models.CharField("NIST function", max_length=10, choices=NistFunction.choices)

    class Meta:
        ordering = ["version", "order", "id"]

    def __str__(self) -> str:
        return self.title

    @property
    def stage_index(self) -> int:
        return WORKING_STAGES.index(self.stage)
