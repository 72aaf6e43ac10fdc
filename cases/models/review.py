"""The internal post-incident review that must be approved before a case closes.

The customer-facing version and repair items build on this model.
"""

from django.db import models

from cases.models.approval import FourEyesApproval, author_cannot_approve
from cases.models.fields import happened, user_field


class PostIncidentReview(FourEyesApproval):
    case = models.OneToOneField("cases.Case", on_delete=models.PROTECT, related_name="review")
    what_happened = models.TextField(help_text="Internal: impact window (UTC), who was affected.")
    what_went_wrong = models.TextField(help_text="Internal: root cause and contributing factors.")
    how_we_responded = models.TextField(blank=True)
    author = user_field()
    updated_at = models.DateTimeField(auto_now=True)
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [author_cannot_approve(name="review_approver_is_not_author", what="a review")]

    def __str__(self) -> str:
        return f"Post-incident review of {self.case.reference}"

    is_approved = happened("approved_at")
