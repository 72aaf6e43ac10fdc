"""Django admin for API tokens: admins create tokens for service accounts (and themselves) and revoke them.

Tokens are never edited: creation goes through ``cases.services.api_tokens.create_token`` (the plain
token is shown once, in the confirmation message) and the only change is revocation.
"""

from django import forms
from django.contrib import admin, messages

from cases.models.exceptions import ActionRefused
from cases.models import ApiToken, User
from cases.services import api_tokens


class ApiTokenCreationForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(choices=ApiToken.Scope.choices, widget=forms.CheckboxSelectMultiple)
    days = forms.IntegerField(min_value=1, max_value=api_tokens.MAX_DAYS, initial=api_tokens.DEFAULT_DAYS,
                              label="Expires after (days)")

    class Meta:
        model = ApiToken
        fields = ["user", "name", "scopes"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = User.objects.filter(organization__isnull=True, is_active=True).order_by(
            "-is_service_account", "username"
        )
        self.fields["user"].help_text = "A service account for a connector, or a staff user."

    def clean(self):
        data = super().clean()
        user, scopes = data.get("user"), data.get("scopes")
        if user is not None and scopes and not api_tokens.may_hold_token(user, scopes):
            self.add_error("user", "This account cannot use the API with these scopes: give it a team (Responders, "
                                   "Incident managers), or, for a connector with only the add_alert permission, choose alerts:write alone.")
        return data


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "user", "scopes", "created_at", "expires_at", "revoked_at", "last_used_at", "last_used_from"]
    list_filter = ["user__is_service_account", "revoked_at", "expires_at"]
    search_fields = ["name", "prefix", "user__username"]
    list_select_related = ["user", "created_by"]
    readonly_fields = ["user", "name", "scopes", "prefix", "created_at", "created_by", "expires_at", "revoked_at",
                       "last_used_at", "last_used_from"]
    actions = ["revoke"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ApiTokenCreationForm
            kwargs["fields"] = ["user", "name", "scopes", "days"]
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def get_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ["user", "name", "scopes", "days"]

    def has_delete_permission(self, request, obj=None):
        return False

    def save_form(self, request, form, change):
        if change:
            return form.instance
        data = form.cleaned_data
        token, raw = api_tokens.create_token(
            user=data["user"], by=request.user, name=data["name"], scopes=data["scopes"], days=data["days"], request=request,
        )
        request._irt_new_token = raw
        return token

    def save_model(self, request, obj, form, change):
        """Nothing to save: the service created the token, and tokens are never edited."""

    def save_related(self, request, form, formsets, change):
        """A token has no related rows to save."""

    def response_add(self, request, obj, post_url_continue=None):
        raw = getattr(request, "_irt_new_token", "")
        self.message_user(request, f"Token for {obj.user}: {raw} — copy it now, it is not shown again.", messages.WARNING)
        return super().response_add(request, obj, post_url_continue)

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        count = 0
        for token in queryset.filter(revoked_at__isnull=True):
            try:
                api_tokens.revoke_token(token=token, by=request.user, request=request)
                count += 1
            except ActionRefused as exc:
                self.message_user(request, " ".join(exc.reasons), messages.ERROR)
        self.message_user(request, f"{count} token(s) revoked.")
