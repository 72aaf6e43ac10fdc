"""Regulatory and contractual clocks that start when something is declared."""

from django.db import models
from django.utils import timezone

from cases.models.approval import FourEyesApproval, four_eyes_constraint
from cases.models.fields import case_field, happened, user_field


class Deadline(models.Model):
    class Kind(models.TextChoices):
        CUSTOMER_NOTICE = "customer_notice", "Customer notice"
        GDPR_ART33 = "gdpr_art33", "GDPR Art. 33 notification to the supervisory authority"
        NIS2_EARLY_WARNING = "nis2_early_warning", "NIS2 early warning"
        # The rule of each clock (start, duration, calendar, recipient) is in cases.models.clock_rules.RULES.
        GDPR_ART34 = "gdpr_art34", "GDPR Art. 34 communication to data subjects"
        NIS2_NOTIFICATION = "nis2_notification", "NIS2 incident notification"
        NIS2_FINAL = "nis2_final", "NIS2 final report"
        DORA_INITIAL = "dora_initial", "DORA initial notification"
        DORA_INTERMEDIATE = "dora_intermediate", "DORA intermediate report"
        DORA_FINAL = "dora_final", "DORA final report"
        SEC_8K = "sec_8k", "SEC Form 8-K Item 1.05"
        HIPAA = "hipaa", "HIPAA breach notice"

    case = case_field("deadlines")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    started_at = models.DateTimeField()
    due_at = models.DateTimeField()
    met_at = models.DateTimeField(null=True, blank=True)
    # The customer notice was met with at least one approved out-of-band notice, not only deliveries.
    met_out_of_band = models.BooleanField(default=False)
    # The decision that started the regime (none for the customer notice) and the stage before this one.
    decision = models.ForeignKey("cases.ClockDecision", null=True, blank=True, on_delete=models.PROTECT, related_name="clocks")
    follows = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # A manager's recorded reason to close the case while this clock still runs.
    close_override_reason = models.TextField(blank=True)
    close_override_by = user_field(optional=True)
    close_override_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at"]
        constraints = [models.UniqueConstraint(fields=["case", "kind"], name="one_deadline_per_kind_and_case")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.case.reference}"

    is_met = happened("met_at")

    def is_overdue(self, now=None) -> bool:
        return not self.is_met and (now or timezone.now()) > self.due_at

    def time_left(self, now=None):
        return self.due_at - (now or timezone.now())


class DeadlineDelay(FourEyesApproval):
    """A request to move a deadline. It takes effect only when someone else approves it."""

    AUTHOR_FIELDS = ("requested_by",)

    deadline = models.ForeignKey(Deadline, on_delete=models.PROTECT, related_name="delays")
    new_due_at = models.DateTimeField()
    reason = models.TextField()
    requested_by = user_field()
    requested_at = models.DateTimeField(auto_now_add=True)
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            four_eyes_constraint(
                name="delay_approver_is_not_requester", author="requested_by",
                message="A delay must be approved by someone other than who asked for it.",
            )
        ]

    def __str__(self) -> str:
        return f"Delay of {self.deadline} to {self.new_due_at:%Y-%m-%d %H:%M} UTC"
