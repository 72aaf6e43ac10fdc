from django.contrib import admin, messages

from cases.admin.base import ReadOnlyAdmin
from notifications.forms import WebhookEndpointAdminForm
from notifications.models import Delivery, DeliveryAttempt, Notification, Preference, Subscription, WebhookEndpoint
from notifications.services import webhooks
from notifications.services.delivery import retry_now


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    readonly_fields = ["number", "at", "ok", "detail"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "case", "created_at"]
    list_filter = ["kind"]
    search_fields = ["title", "case__reference"]
    readonly_fields = [f.name for f in Notification._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "channel", "recipient", "status", "attempts", "next_attempt_at", "last_error"]
    list_filter = ["status", "channel", "notification__kind"]
    search_fields = ["address", "notification__title", "notification__case__reference", "id"]
    list_select_related = ["notification", "user", "endpoint"]
    readonly_fields = [f.name for f in Delivery._meta.fields]
    inlines = [DeliveryAttemptInline]
    actions = ["retry"]

    @admin.display(description="Recipient")
    def recipient(self, obj):
        return obj.recipient_label

    def has_add_permission(self, request):
        return False

    @admin.action(description="Retry now")
    def retry(self, request, queryset):
        count = 0
        for delivery in queryset.exclude(status=Delivery.Status.DELIVERED).exclude(channel=Delivery.Channel.INBOX):
            retry_now(delivery=delivery, by=request.user)
            count += 1
        self.message_user(request, f"Queued {count} deliver{'ies' if count != 1 else 'y'} for another attempt.")


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointAdminForm
    list_display = ["organization", "url", "is_active", "disabled_reason", "created_at", "secret_rotated_at"]
    list_filter = ["is_active"]
    search_fields = ["organization__name", "url"]
    readonly_fields = ["created_at", "secret_rotated_at"]
    actions = ["rotate"]

    def save_model(self, request, obj, form, change):
        # The form ran the same URL guard already (as a field error); the service runs it again.
        secret = webhooks.save_endpoint(endpoint=obj)
        if secret is not None:
            self._show_secret(request, obj, secret)

    def _show_secret(self, request, obj, secret):
        messages.warning(request, f"Signing secret for {obj.url} (shown once; give it to the customer now): {secret}")

    @admin.action(description="Rotate the signing secret")
    def rotate(self, request, queryset):
        for endpoint in queryset:
            self._show_secret(request, endpoint, webhooks.rotate_secret(endpoint=endpoint))


@admin.register(Preference)
class PreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "email_incident_updates", "email_reviews", "updated_at"]
    search_fields = ["user__username"]


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin):
    """Customers make these choices (``notifications.services.subscriptions``); staff look when an email did not go."""

    list_display = ["organization", "user", "case", "service", "receive", "changed_by", "updated_at"]
    list_filter = ["receive", "organization"]
    search_fields = ["organization__name", "user__username", "case__reference", "service__name"]
