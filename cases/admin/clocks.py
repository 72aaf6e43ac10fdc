"""Admin for clock decisions and submissions: read-only, they are made on the case page and the API."""

from django.contrib import admin

from cases.admin.base import ReadOnlyAdmin
from cases.models import ClockDecision, ClockSubmission


@admin.register(ClockDecision)
class ClockDecisionAdmin(ReadOnlyAdmin):
    list_display = ("case", "kind", "decided_at", "decided_by")
    list_filter = ("kind",)
    search_fields = ("case__reference", "note")


@admin.register(ClockSubmission)
class ClockSubmissionAdmin(ReadOnlyAdmin):
    list_display = ("deadline", "recipient", "submitted_at", "reference_number", "recorded_by")
    search_fields = ("deadline__case__reference", "recipient", "reference_number")
