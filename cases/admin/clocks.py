"""Admin for clock decisions and submissions: read-only, they are made on the case page and the API."""

from django.contrib import admin

from cases.models import ClockDecision, ClockSubmission


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ClockDecision)
class ClockDecisionAdmin(ReadOnlyAdmin):
    list_display = ("case", "kind", "decided_at", "decided_by")
    list_filter = ("kind",)
    search_fields = ("case__reference", "note")


@admin.register(ClockSubmission)
class ClockSubmissionAdmin(ReadOnlyAdmin):
    list_display = ("deadline", "recipient", "submitted_at", "reference_number", "recorded_by")
    search_fields = ("deadline__case__reference", "recipient", "reference_number")
