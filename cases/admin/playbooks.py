"""Admin for playbooks. A version any case followed is frozen: shown read-only, copied to edit."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied

from cases.models.exceptions import ActionRefused
from cases.models import Playbook, PlaybookStep, PlaybookVersion
from cases.services import playbooks


def _frozen(version) -> bool:
    return version is not None and version.pk is not None and PlaybookVersion.objects.filter(
        pk=version.pk, frozen_at__isnull=False
    ).exists()


class PlaybookVersionInline(admin.TabularInline):
    model = PlaybookVersion
    fields = ("number", "classification", "breach_category", "source", "affected_service", "severity", "frozen_at")
    readonly_fields = fields
    extra = 0
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Playbook)
class PlaybookAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "auto_apply")
    search_fields = ("name", "slug", "purpose")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [PlaybookVersionInline]


class PlaybookStepInline(admin.StackedInline):
    model = PlaybookStep
    extra = 0
    fields = ("stage", "order", "title", "guidance", "mandatory", "expected_role", "due_offset", "nist_function")

    def has_add_permission(self, request, obj=None):
        return not _frozen(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return not _frozen(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not _frozen(obj) and super().has_delete_permission(request, obj)


@admin.register(PlaybookVersion)
class PlaybookVersionAdmin(admin.ModelAdmin):
    list_display = ("__str__", "created_by", "created_at", "frozen_at")
    list_filter = ("playbook",)
    search_fields = ("playbook__name",)
    readonly_fields = ("frozen_at", "created_by", "created_at")
    inlines = [PlaybookStepInline]
    actions = ["save_as_new_version"]

    def has_change_permission(self, request, obj=None):
        return not _frozen(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not _frozen(obj) and super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        # Checked again on save: a case may have applied the version since the form was opened.
        if change and _frozen(obj):
            raise PermissionDenied("A case follows this version; save it as a new version instead.")
        if not change:
            obj.created_by = request.user
            if not obj.number:
                last = obj.playbook.versions.order_by("-number").first()
                obj.number = (last.number + 1) if last else 1
        super().save_model(request, obj, form, change)

    @admin.action(description="Copy as a new version (to edit a frozen one)")
    def save_as_new_version(self, request, queryset):
        for version in queryset.select_related("playbook"):
            playbook = version.playbook
            try:
                new = playbooks.copy_as_new_version(version=version, by=request.user)
            except ActionRefused as exc:
                self.message_user(request, " ".join(exc.reasons), messages.ERROR)
                continue
            self.message_user(request, f"{playbook.name}: version {new.number} created from v{version.number}.")
