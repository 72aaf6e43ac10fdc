"""Forms of the notifications app: preferences, webhook endpoints (Django admin and customer administrators)."""

from django import forms

from notifications.channels import webhook
from notifications.models import Preference, WebhookEndpoint


class PreferenceForm(forms.ModelForm):
    class Meta:
        model = Preference
        fields = ["email_updates_of_breaches", "email_incident_updates", "email_reviews"]


class CheckedUrlMixin:
    """The URL passes the same guard as the service and every send."""

    def clean_url(self):
        url = self.cleaned_data["url"]
        try:
            webhook.check_url(url)
        except webhook.WebhookRefused as exc:
            raise forms.ValidationError(str(exc)) from None
        return url


class WebhookEndpointAdminForm(CheckedUrlMixin, forms.ModelForm):
    """Django admin's endpoint form."""

    class Meta:
        model = WebhookEndpoint
        fields = "__all__"


class CustomerWebhookForm(CheckedUrlMixin, forms.ModelForm):
    """A customer administrator's new endpoint: where to send, and a note for their own team."""

    # A text box (the site's styles size text inputs), with the URL keyboard on phones.
    url = forms.URLField(label="Endpoint URL (https)", max_length=500, assume_scheme="https",
                         widget=forms.TextInput(attrs={"inputmode": "url", "autocomplete": "off"}))

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "description"]
