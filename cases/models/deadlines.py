"""Regulatory and contractual clocks that start when something is declared."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class Deadline(models.Model):
    class Kind(models.TextChoices):
        CUSTOMER_NOTICE = "customer_notice", "Customer notice"
        GDPR_ART33 = "gdpr_art33", "GDPR Art. 33 notification to the supervisory authority"
        NIS2_EARLY_WARNING = "nis2_early_warning", "NIS2 early warning"

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="deadlines")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    started_at = models.DateTimeField()
    due_at = models.DateTimeField()
    met_at = models.DateTimeField(null=True, blank=True)
    # The customer notice was met with at least one approved out-of-band notice, not only deliveries.
    met_out_of_band = models.BooleanField(default=False)

    class Meta:
        ordering = ["due_at"]
        constraints = [models.UniqueConstraint(fields=["case", "kind"], name="one_deadline_per_kind_and_case")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.case.reference}"

    @property
    def is_met(self) -> bool:
        return self.met_at is not None

    def is_overdue(self, now=None) -> bool:
        return not self.is_met and (now or timezone.now()) > self.due_at

    def time_left(self, now=None):
        return self.due_at - (now or timezone.now())


class DeadlineDelay(models.Model):
    """A request to move a deadline. It takes effect only when someone else approves it."""

    deadline = models.ForeignKey(Deadline, on_delete=models.PROTECT, related_name="delays")
    new_due_at = models.DateTimeField()
    reason = models.TextField()
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(approved_by__isnull=True) | ~models.Q(approved_by=models.F("requested_by")),
                name="delay_approver_is_not_requester",
                violation_error_message="A delay must be approved by someone other than who asked for it.",
            )
        ]

    def __str__(self) -> str:
        return f"Delay of {self.deadline} to {self.new_due_at:%Y-%m-%d %H:%M} UTC"
