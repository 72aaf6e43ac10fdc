"""The form of the API token page. Shape only; the rules (scopes, lifetime, who) live in the service."""

from django import forms

from cases.models import ApiToken
from cases.services.api_tokens import DEFAULT_DAYS, MAX_DAYS


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Where the token is used, for example: laptop CLI, Sentinel connector.")
    scopes = forms.MultipleChoiceField(
        choices=ApiToken.Scope.choices, widget=forms.CheckboxSelectMultiple,
        help_text="Give only what the tool needs. The token can never do more than you can.",
    )
    days = forms.IntegerField(
        label="Expires after (days)", min_value=1, max_value=MAX_DAYS, initial=DEFAULT_DAYS,
    )
