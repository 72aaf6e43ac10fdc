"""Questions and files a customer sends from an incident page, and the answers they get.

A question belongs to one organisation: its users read their own organisation's questions and
the replies that reached them, never another organisation's. A reply is customer-visible once
``published_at`` is set: at once, or, for the first written reply to an organisation on a
declared breach, when a second person approves it (four eyes). A reply may instead point at an
approved incident update. A file becomes ``Evidence`` on the case; ``CustomerUpload`` records
which organisation and user sent it, so that organisation's users list their own uploads and
nothing else of the case's evidence.
"""

from django.db import models
from django.utils import timezone

from cases.models.approval import FourEyesApproval, author_cannot_approve
from cases.models.communications import PublishedQuerySet
from cases.models.fields import case_field, happened, user_field


class CustomerQuestion(models.Model):
    """A question a customer user asked on their organisation's incident page."""

    case = case_field("customer_questions")
    organization = models.ForeignKey("cases.Organization", on_delete=models.PROTECT, related_name="+")
    asked_by = user_field()
    asked_at = models.DateTimeField(default=timezone.now)
    text = models.TextField()

    class Meta:
        ordering = ["asked_at", "id"]
        # The daily bound counts an organisation's questions of the last day.
        indexes = [models.Index(fields=["organization", "asked_at"], name="question_org_asked_at"),
                   models.Index(fields=["case", "organization"], name="question_case_org")]

    def __str__(self) -> str:
        return f"Question {self.pk} from {self.organization_id} on case {self.case_id}"


class QuestionReply(FourEyesApproval):
    """Our answer to a customer question: written text, or a pointer to an approved update, or both."""

    question = models.ForeignKey(CustomerQuestion, on_delete=models.PROTECT, related_name="replies")
    text = models.TextField(blank=True)
    update = models.ForeignKey("cases.IncidentUpdate", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    author = user_field()
    created_at = models.DateTimeField(default=timezone.now)
    # Decided when written (``cases.services.customer_questions.reply_needs_second_person``).
    needs_approval = models.BooleanField(default=False)
    approved_at = models.DateTimeField(null=True, blank=True)
    # When the customer could first read it; never set while an approval it needs is missing.
    published_at = models.DateTimeField(null=True, blank=True, db_index=True)

    objects = PublishedQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "question replies"
        constraints = [
            author_cannot_approve(name="question_reply_approver_is_not_author", what="a reply"),
            models.CheckConstraint(
                condition=models.Q(needs_approval=False) | models.Q(published_at__isnull=True) | models.Q(approved_at__isnull=False),
                name="question_reply_published_only_once_approved",
                violation_error_message="A reply that needs a second person is published only once approved.",
            ),
        ]

    def __str__(self) -> str:
        return f"Reply {self.pk} to question {self.question_id}"

    is_published = happened("published_at")

    @property
    def awaits_approval(self) -> bool:
        return self.needs_approval and self.approved_at is None


class CustomerUpload(models.Model):
    """A file a customer user sent from an incident page: which evidence item, from whom."""

    evidence = models.OneToOneField("cases.Evidence", on_delete=models.PROTECT, related_name="customer_upload")
    case = case_field("customer_uploads")
    organization = models.ForeignKey("cases.Organization", on_delete=models.PROTECT, related_name="+")
    uploaded_by = user_field()
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["uploaded_at", "id"]
        indexes = [models.Index(fields=["organization", "uploaded_at"], name="upload_org_uploaded_at"),
                   models.Index(fields=["case", "organization"], name="upload_case_org")]

    def __str__(self) -> str:
        return f"EV-{self.evidence_id} from {self.organization_id}"
