"""Django admin for alert intake: signed-intake sources and their secrets, tenants, read-only alerts.

Alerts and groups change only through intake and triage (``cases.services``), so they are
read-only here; an admin keeps the webhook senders (``AlertSource``) and organisations' tenants.
"""

import base64
import secrets

from django import forms
from django.contrib import admin

from cases.admin.base import ReadOnlyAdmin
from cases.models import Alert, AlertGroup, AlertSource, Observable, OrganizationTenant


def new_webhook_secret() -> str:
    """Return a Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


class OrganizationTenantInline(admin.TabularInline):
    model = OrganizationTenant
    extra = 1
    fields = ["kind", "tenant_id"]


class AlertSourceForm(forms.ModelForm):
    class Meta:
        model = AlertSource
        fields = ["slug", "name", "source", "service_account", "enabled", "secret"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.pk:
            self.fields["secret"].initial = new_webhook_secret()

    def clean_secret(self):
        secret = self.cleaned_data["secret"].strip()
        try:
            key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
        except ValueError:
            raise forms.ValidationError("A Standard Webhooks secret: whsec_ followed by base64.") from None
        if len(key) < 24:
            raise forms.ValidationError("Use at least 24 random bytes.")
        return secret


@admin.register(AlertSource)
class AlertSourceAdmin(admin.ModelAdmin):
    form = AlertSourceForm
    list_display = ["slug", "name", "source", "service_account", "enabled", "created_at"]
    list_filter = ["enabled", "source"]


@admin.register(AlertGroup)
class AlertGroupAdmin(ReadOnlyAdmin):
    list_display = ["id", "title", "severity", "status", "alert_count", "first_seen_at", "case"]
    list_filter = ["status", "severity"]
    search_fields = ["title", "correlation_key"]
    list_select_related = ["case"]


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ["source", "source_ref", "title", "severity", "observed_at", "seen_count", "group"]
    list_filter = ["source", "severity"]
    search_fields = ["source_ref", "title"]
    list_select_related = ["group"]


@admin.register(Observable)
class ObservableAdmin(ReadOnlyAdmin):
    list_display = ["kind", "value", "first_seen_at"]
    list_filter = ["kind"]
    search_fields = ["value"]
