"""The internal post-incident review that must be approved before a case closes.

The customer-facing version and repair items build on this model.
"""

from django.conf import settings
from django.db import models

from cases.models.approval import FourEyesApproval, four_eyes_constraint


class PostIncidentReview(FourEyesApproval):
    case = models.OneToOneField("cases.Case", on_delete=models.PROTECT, related_name="review")
    what_happened = models.TextField(help_text="Internal: impact window (UTC), who was affected.")
    what_went_wrong = models.TextField(help_text="Internal: root cause and contributing factors.")
    how_we_responded = models.TextField(blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            four_eyes_constraint(
                name="review_approver_is_not_author", author="author",
                message="The author of a review cannot approve it.",
            )
        ]

    def __str__(self) -> str:
        return f"Post-incident review of {self.case.reference}"

    @property
    def is_approved(self) -> bool:
        return self.approved_at is not None
