"""Action items on a case. Open mandatory tasks block closing."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class TaskQuerySet(models.QuerySet):
    def open(self):
        """Tasks neither done nor skipped."""
        return self.filter(done_at__isnull=True, skipped_at__isnull=True)


class Task(models.Model):
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="tasks")
    title = models.CharField(max_length=200)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="tasks"
    )
    due_at = models.DateTimeField(null=True, blank=True)
    mandatory = models.BooleanField(default=False, help_text="Open mandatory tasks block closing the case.")
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # Set when the task was created from a playbook step; a skip is a recorded deviation from it.
    step = models.ForeignKey("cases.PlaybookStep", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    skipped_at = models.DateTimeField(null=True, blank=True)
    skipped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    skip_reason = models.TextField(blank=True)

    objects = TaskQuerySet.as_manager()

    class Meta:
        ordering = ["done_at", "due_at", "id"]

    def __str__(self) -> str:
        return self.title

    @property
    def is_done(self) -> bool:
        return self.done_at is not None

    @property
    def is_skipped(self) -> bool:
        return self.skipped_at is not None

    @property
    def is_overdue(self) -> bool:
        return not self.is_done and not self.is_skipped and self.due_at is not None and self.due_at < timezone.now()
