"""What starts and meets a regulatory clock: decisions by named people, and submissions.

The clock itself is a ``Deadline``; its rule (what starts it, how long, to whom) is in
``cases.models.clock_rules.RULES``.
"""

from django.db import models

from cases.models.fields import case_field, user_field


class ClockDecision(models.Model):
    """A decision that starts one regime's clocks, recorded by a named person with a note."""

    class Kind(models.TextChoices):
        PERSONAL_DATA_BREACH = "personal_data_breach", "Aware of a personal-data breach (GDPR Art. 33)"
        HIGH_RISK = "high_risk", "The risk to data subjects is high (GDPR Art. 34)"
        SIGNIFICANT_INCIDENT = "significant_incident", "Aware of a significant incident (NIS2 Art. 23)"
        MAJOR_INCIDENT = "major_incident", "Classified as a major ICT-related incident (DORA)"
        MATERIAL = "material", "Determined material (SEC Form 8-K Item 1.05)"
        HIPAA_DISCOVERY = "hipaa_discovery", "Discovered a breach of unsecured PHI (HIPAA)"

    case = case_field("clock_decisions")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    decided_at = models.DateTimeField(help_text="When the decision was made or awareness began (UTC).")
    # DORA caps the initial notification at 24 h after awareness, which may precede the classification.
    aware_at = models.DateTimeField(null=True, blank=True)
    # GDPR Art. 34 says "without undue delay": the manager sets the target.
    target_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField()
    decided_by = user_field()
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["decided_at", "id"]
        constraints = [models.UniqueConstraint(fields=["case", "kind"], name="one_clock_decision_per_kind_and_case")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.case.reference}"


class ClockSubmission(models.Model):
    """What was sent to meet a clock: to whom, when, what, the reference, the document."""

    deadline = models.ForeignKey("cases.Deadline", on_delete=models.PROTECT, related_name="submissions")
    recipient = models.CharField(max_length=300)
    submitted_at = models.DateTimeField()
    content = models.TextField(help_text="What was sent, or a summary of it.")
    reference_number = models.CharField(max_length=200, blank=True)
    evidence = models.ForeignKey("cases.Evidence", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    recorded_by = user_field()
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["submitted_at", "id"]

    def __str__(self) -> str:
        return f"Submission to {self.recipient} for {self.deadline}"
