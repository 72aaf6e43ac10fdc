"""Django admin for cases. Lifecycle changes go through the services, never a raw field edit."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied

from cases.admin.alerts import OrganizationTenantInline
from cases.admin.base import ReadOnlyAdmin
from cases.models.exceptions import ActionRefused, CaseChanged
from cases.models import (AffectedCustomer, Case, Deadline, DeadlineDelay, Evidence, EvidenceAccess, Organization,
                          PostIncidentReview, SecurityEvent, Service, Task, TimelineEvent, User)
from cases.services import cases as case_services
from cases.services import mfa, security_log, sessions
from cases.services import legal_hold, lifecycle


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "contact_count", "created_at"]
    inlines = [OrganizationTenantInline]
    search_fields = ["name", "slug", "security_contacts"]
    prepopulated_fields = {"slug": ["name"]}

    @admin.display(description="Security contacts")
    def contact_count(self, obj):
        return len(obj.security_contact_emails())


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "email", "first_name", "last_name", "organization", "role_groups", "is_active", "is_superuser"]
    list_filter = ["is_active", "is_superuser", "is_service_account", "groups", "organization"]
    search_fields = ["username", "email", "first_name", "last_name", "organization__name"]
    list_select_related = ["organization"]
    fieldsets = DjangoUserAdmin.fieldsets + (("Customer", {"fields": ["organization", "is_customer_admin"]}),
                                             ("Service account", {"fields": ["is_service_account"]}))
    add_fieldsets = DjangoUserAdmin.add_fieldsets + (("Customer", {"fields": ["organization", "is_customer_admin"]}),
                                                     ("Service account", {"fields": ["is_service_account"]}))

    actions = ["reset_second_factor"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    def save_model(self, request, obj, form, change):
        # Teams and permissions are saved after the user (save_related), so the audit row is
        # written there; the roles before the edit are read here, before anything is saved.
        request._irt_roles_before = security_log.Roles.of(User.objects.get(pk=obj.pk)) if change else None
        super().save_model(request, obj, form, change)
        sessions.end_sessions_if_deactivated(user=obj, was_active=bool(change and request._irt_roles_before.is_active),
                                             request=request, actor=request.user)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        security_log.record_role_changes(user=form.instance, before=getattr(request, "_irt_roles_before", None),
                                         request=request, actor=request.user)

    @admin.action(description="Reset two-factor sign-in (the user sets it up again at next sign-in)")
    def reset_second_factor(self, request, queryset):
        for user in queryset:
            mfa.disable_mfa(user=user, request=request, by=request.user)
            sessions.end_all_sessions(user)
        self.message_user(request, f"Second factor reset for {queryset.count()} user(s); their sessions ended.")

    @admin.display(description="Teams")
    def role_groups(self, obj):
        return ", ".join(group.name for group in obj.groups.all()) or "—"


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    search_fields = ["name"]


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class TaskInline(ReadOnlyInline):
    model = Task
    fields = ["title", "assignee", "due_at", "mandatory", "done_at"]


class AffectedCustomerInline(ReadOnlyInline):
    model = AffectedCustomer
    fields = ["organization", "data_lost", "data_altered", "data_disclosed", "confirmed_at", "notified_at"]


def _lifecycle_admin_action(action_name: str):
    """Build an admin action that runs the lifecycle service for each selected case."""
    spec = lifecycle.ACTIONS[action_name]

    def run(modeladmin, request, queryset):
        for case in queryset:
            try:
                lifecycle.run_action(action_name=action_name, case=case, by=request.user, note=f"{spec.label} from Django admin.")
            except (PermissionDenied, ActionRefused, CaseChanged) as exc:
                modeladmin.message_user(request, f"{case.reference}: {exc}", messages.ERROR)
            else:
                modeladmin.message_user(request, f"{case.reference}: {spec.label.lower()} done.", messages.SUCCESS)

    run.__name__ = f"lifecycle_{action_name}"
    run.short_description = f"{spec.label} (through the lifecycle rules)"
    return run


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ["reference", "title", "status", "severity", "owner", "restricted", "breach_declared_at", "detected_at"]
    list_filter = ["status", "severity", "source", "classification", "scope", "restricted", ("breach_declared_at", admin.EmptyFieldListFilter)]
    search_fields = ["reference", "title"]
    list_select_related = ["owner"]
    date_hierarchy = "detected_at"
    # Stage, timestamps and breach stamps change only through the services.
    readonly_fields = [
        "reference", "status", "version", "detected_at", "assessed_at", "contained_at", "recovered_at", "closed_at",
        "dismissed_at", "breach_declared_at", "dismissal_reason", "duplicate_of", "created_by", "created_at", "updated_at",
        "owner", "restricted",
    ]
    fields = [
        "reference", "title", "status", "severity", "classification", "breach_category", "scope", "source",
        "internal_summary", "owner", "restricted", "version", "detected_at", "assessed_at", "contained_at",
        "recovered_at", "closed_at", "dismissed_at", "breach_declared_at", "dismissal_reason", "duplicate_of",
        "created_by", "created_at", "updated_at",
    ]
    inlines = [TaskInline, AffectedCustomerInline]
    actions = [_lifecycle_admin_action(name) for name in lifecycle.ACTIONS if name != "dismiss"]

    def has_add_permission(self, request):
        # Opening a case needs a reference, a timeline and a member: use the site's form.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        """Route edits through the service so they are checked and written to the timeline."""
        changes = {name: form.cleaned_data[name] for name in form.changed_data if name in case_services.DETAIL_FIELDS}
        try:
            case_services.update_case_details(case=obj, by=request.user, changes=changes)
        except (PermissionDenied, ActionRefused, CaseChanged) as exc:
            self.message_user(request, str(exc), messages.ERROR)


@admin.register(Task)
class TaskAdmin(ReadOnlyAdmin):
    list_display = ["title", "case", "assignee", "mandatory", "due_at", "done_at"]
    list_filter = ["mandatory", ("done_at", admin.EmptyFieldListFilter)]
    search_fields = ["title", "case__reference"]
    list_select_related = ["case", "assignee"]


@admin.register(AffectedCustomer)
class AffectedCustomerAdmin(ReadOnlyAdmin):
    list_display = ["case", "organization", "data_lost", "data_altered", "data_disclosed", "confirmed_at", "notified_at"]
    list_filter = ["data_lost", "data_altered", "data_disclosed", "organization"]
    search_fields = ["case__reference", "organization__name"]
    list_select_related = ["case", "organization"]


@admin.register(Deadline)
class DeadlineAdmin(ReadOnlyAdmin):
    list_display = ["case", "kind", "started_at", "due_at", "met_at"]
    list_filter = ["kind", ("met_at", admin.EmptyFieldListFilter)]
    search_fields = ["case__reference"]
    list_select_related = ["case"]


@admin.register(DeadlineDelay)
class DeadlineDelayAdmin(ReadOnlyAdmin):
    list_display = ["deadline", "new_due_at", "requested_by", "approved_by", "approved_at"]
    list_filter = [("approved_at", admin.EmptyFieldListFilter)]
    search_fields = ["deadline__case__reference", "reason"]
    list_select_related = ["deadline__case", "requested_by", "approved_by"]


@admin.register(PostIncidentReview)
class PostIncidentReviewAdmin(ReadOnlyAdmin):
    list_display = ["case", "author", "approved_by", "approved_at", "updated_at"]
    list_filter = [("approved_at", admin.EmptyFieldListFilter)]
    search_fields = ["case__reference"]
    list_select_related = ["case", "author", "approved_by"]


@admin.register(TimelineEvent)
class TimelineEventAdmin(ReadOnlyAdmin):
    list_display = ["case", "sequence", "at", "actor_name", "kind", "text"]
    list_filter = ["kind"]
    search_fields = ["case__reference", "text", "actor_name"]
    list_select_related = ["case"]


@admin.register(Evidence)
class EvidenceAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "case", "size", "sha256", "uploaded_by", "uploaded_at", "integrity_ok", "superseded_at", "purged_at"]
    list_filter = ["integrity_ok", ("superseded_at", admin.EmptyFieldListFilter), ("purged_at", admin.EmptyFieldListFilter)]
    search_fields = ["case__reference", "original_name", "sha256"]
    list_select_related = ["case", "uploaded_by"]
    actions = ["purge_stored_bytes"]

    @admin.action(description="Purge stored bytes (keeps the record, hashes and custody trail)")
    def purge_stored_bytes(self, request, queryset):
        """Purge through the service, so legal hold and the custody record apply here too."""
        reason = f"Purged by {request.user.get_username()} from Django admin"
        for item in queryset.select_related("case").order_by("pk"):
            try:
                legal_hold.purge_evidence(evidence=item, by=request.user, reason=reason)
            except (PermissionDenied, ActionRefused) as exc:
                self.message_user(request, f"{item.label}: {exc}", messages.ERROR)
            else:
                self.message_user(request, f"{item.label}: stored bytes purged; the record stays.", messages.SUCCESS)


@admin.register(EvidenceAccess)
class EvidenceAccessAdmin(ReadOnlyAdmin):
    list_display = ["evidence", "action", "at", "actor_name", "sha256"]
    list_filter = ["action"]
    search_fields = ["evidence__case__reference", "actor_name", "sha256"]
    list_select_related = ["evidence"]


@admin.register(SecurityEvent)
class SecurityEventAdmin(ReadOnlyAdmin):
    """The account-security audit log: read-only, newest first."""

    list_display = ["at", "kind", "username", "user", "actor", "ip_address", "path", "detail"]
    list_filter = ["kind", "at"]
    search_fields = ["username", "ip_address", "detail", "user__username"]
    list_select_related = ["user", "actor"]
    date_hierarchy = "at"
