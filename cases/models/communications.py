"""What customers read: incident updates, the customer-facing review, repair items, acknowledgements.

Every field here is customer-visible by construction; internal text lives on ``Case`` and
``PostIncidentReview``. Customer pages render only from these models and from
``AffectedCustomer.impact_statement`` of the reader's own organisation.
"""

from django.db import models
from django.urls import reverse

from cases.models.approval import FourEyesApproval, author_cannot_approve
from cases.models.fields import case_field, happened, user_field


class PublishedQuerySet(models.QuerySet):
    """Customer text is published once a second person approved it: ``published_at`` is set."""

    def published(self):
        return self.filter(published_at__isnull=False)

    def drafts(self):
        return self.filter(published_at__isnull=True)


class CustomerStatus(models.TextChoices):
    """The status vocabulary customers know from cloud status pages."""

    INVESTIGATING = "investigating", "Investigating"
    IDENTIFIED = "identified", "Identified"
    MONITORING = "monitoring", "Monitoring"
    RESOLVED = "resolved", "Resolved"


class IncidentUpdate(FourEyesApproval):
    """One dated entry of a customer incident page; published only after someone else approves it.

    Published updates are never edited: a correction is a new update whose ``corrects`` names
    the one it corrects.
    """

    case = case_field("updates")
    status = models.CharField(max_length=20, choices=CustomerStatus.choices, default=CustomerStatus.INVESTIGATING)
    public_title = models.CharField(max_length=200)
    what_happened = models.TextField()
    what_we_know = models.TextField("What we know so far", blank=True)
    what_we_are_doing = models.TextField(blank=True)
    what_you_should_do = models.TextField(blank=True, help_text="Actionable steps for the customer.")
    affected_services = models.CharField(max_length=500, blank=True, help_text="As customers know them, comma-separated.")
    # The incident's times as customers read them: copied from the case when drafting, approved with the text.
    impact_started_at = models.DateTimeField("Impact started (UTC)", null=True, blank=True)
    detected_at = models.DateTimeField("Detected (UTC)", null=True, blank=True)
    impact_ended_at = models.DateTimeField(
        "Impact ended (UTC)", null=True, blank=True, help_text="Leave empty while the impact is ongoing."
    )
    next_update_by = models.DateTimeField(
        "Next update by (UTC)", null=True, blank=True,
        help_text="When customers can expect the next update; must still be in the future when approved.",
    )
    corrects = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections")
    author = user_field()
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True, db_index=True)

    objects = PublishedQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-id"]
        constraints = [author_cannot_approve(name="update_approver_is_not_author", what="an update")]

    def __str__(self) -> str:
        return f"{self.case.reference}: {self.public_title}"

    is_published = happened("published_at")


def next_update_overdue(next_update_by, *, now) -> bool:
    """Return whether the next update promised by the latest published update is late at ``now``.

    Asked of the latest update only: a newer published update keeps (or replaces) the promise.
    """
    return next_update_by is not None and next_update_by < now


class RepairItem(models.Model):
    """Something we repair so incidents like this become less likely or less impactful."""

    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"

    case = case_field("repair_items")
    title = models.CharField(max_length=300, help_text="Customer-visible.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PLANNED)
    estimated_completion = models.DateField(null=True, blank=True)
    completed_on = models.DateField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.title


class PublishedReview(FourEyesApproval):
    """The customer-facing post-incident review, published to the affected organisations or to everyone."""

    class Audience(models.TextChoices):
        AFFECTED = "affected", "Affected organisations only"
        PUBLIC = "public", "Public"

    case = models.OneToOneField("cases.Case", on_delete=models.PROTECT, related_name="published_review")
    slug = models.SlugField(max_length=120, unique=True)
    title = models.CharField(max_length=200)
    impact_started_at = models.DateTimeField("Impact started (UTC)")
    impact_ended_at = models.DateTimeField("Impact ended (UTC)", null=True, blank=True)
    who_was_affected = models.TextField()
    what_happened = models.TextField()
    what_went_wrong = models.TextField("What went wrong and why")
    how_we_responded = models.TextField()
    how_customers_can_reduce_impact = models.TextField(
        "How customers can make incidents like this less impactful", blank=True
    )
    audience = models.CharField(max_length=10, choices=Audience.choices, default=Audience.AFFECTED)
    author = user_field()
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True, db_index=True)

    objects = PublishedQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at"]
        constraints = [author_cannot_approve(name="published_review_approver_is_not_author", what="a review")]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("lessons:detail", args=[self.slug])

    is_published = happened("published_at")

    @property
    def is_public(self) -> bool:
        return self.is_published and self.audience == self.Audience.PUBLIC


class Acknowledgement(models.Model):
    """A customer user confirming they read their organisation's incident page."""

    case = case_field("acknowledgements")
    user = user_field(related_name="acknowledgements")
    acknowledged_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "user"], name="one_acknowledgement_per_user_and_case")]

    def __str__(self) -> str:
        return f"{self.user} acknowledged {self.case.reference}"
