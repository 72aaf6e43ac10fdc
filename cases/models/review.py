"""The internal post-incident review that must be approved before a case closes.

The customer-facing version and repair items build on this model.
"""

from django.conf import settings
from django.db import models


class PostIncidentReview(models.Model):
    case = models.OneToOneField("cases.Case", on_delete=models.PROTECT, related_name="review")
    what_happened = models.TextField(help_text="Internal: impact window (UTC), who was affected.")
    what_went_wrong = models.TextField(help_text="Internal: root cause and contributing factors.")
    how_we_responded = models.TextField(blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(approved_by__isnull=True) | ~models.Q(approved_by=models.F("author")),
                name="review_approver_is_not_author",
                violation_error_message="The author of a review cannot approve it.",
            )
        ]

    def __str__(self) -> str:
        return f"Post-incident review of {self.case.reference}"

    @property
    def is_approved(self) -> bool:
        return self.approved_at is not None
