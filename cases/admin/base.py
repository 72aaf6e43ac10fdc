"""What the admin modules share: the admin of rows that only the services write."""

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """List and show rows, never add, change or delete them.

    For audit trails and workflow rows (timeline, custody, alerts, clock decisions, tasks): they are
    written by ``cases.services`` with their checks and timeline rows, so a raw edit here would skip both.
    """

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
