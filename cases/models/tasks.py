"""Action items on a case. Open mandatory tasks block closing."""

from django.db import models
from django.utils import timezone

from cases.models.fields import case_field, happened, user_field


class TaskQuerySet(models.QuerySet):
    def open(self):
        """Tasks neither done nor skipped."""
        return self.filter(done_at__isnull=True, skipped_at__isnull=True)


class Task(models.Model):
    case = case_field("tasks")
    title = models.CharField(max_length=200)
    assignee = user_field(optional=True, related_name="tasks")
    due_at = models.DateTimeField(null=True, blank=True)
    mandatory = models.BooleanField(default=False, help_text="Open mandatory tasks block closing the case.")
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = user_field(optional=True)
    created_by = user_field()
    created_at = models.DateTimeField(auto_now_add=True)
    # Set when the task was created from a playbook step; a skip is a recorded deviation from it.
    step = models.ForeignKey("cases.PlaybookStep", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    skipped_at = models.DateTimeField(null=True, blank=True)
    skipped_by = user_field(optional=True)
    skip_reason = models.TextField(blank=True)

    objects = TaskQuerySet.as_manager()

    class Meta:
        ordering = ["done_at", "due_at", "id"]

    def __str__(self) -> str:
        return self.title

    is_done = happened("done_at")
    is_skipped = happened("skipped_at")

    @property
    def is_overdue(self) -> bool:
        return not self.is_done and not self.is_skipped and self.due_at is not None and self.due_at < timezone.now()
