"""Customers whose data a case affected."""

from django.conf import settings
from django.db import models


class AffectedCustomer(models.Model):
    """An organisation affected by a case, and what happened to its data.

    ``impact_statement`` is customer-visible; everything else on the case is internal.
    ``notified_at`` is stamped when the organisation's breach notice is delivered.
    """

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="affected_customers")
    organization = models.ForeignKey("cases.Organization", on_delete=models.PROTECT, related_name="affected_by")
    data_lost = models.BooleanField(default=False)
    data_altered = models.BooleanField(default=False)
    data_disclosed = models.BooleanField(default=False)
    impact_statement = models.TextField(
        blank=True, help_text="Shown to this customer. Describe their impact in words they can act on."
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organization__name"]
        constraints = [
            models.UniqueConstraint(fields=["case", "organization"], name="one_affected_row_per_org_and_case")
        ]

    def __str__(self) -> str:
        return f"{self.organization} in {self.case.reference}"

    @property
    def data_impacts(self) -> list[str]:
        return [
            label
            for flag, label in (
                (self.data_lost, "lost"),
                (self.data_altered, "altered"),
                (self.data_disclosed, "disclosed"),
            )
            if flag
        ]

    @property
    def is_breach(self) -> bool:
        return bool(self.data_impacts)
