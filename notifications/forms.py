from django import forms

from notifications.channels import webhook
from notifications.models import Preference, WebhookEndpoint


class PreferenceForm(forms.ModelForm):
    class Meta:
        model = Preference
        fields = ["email_incident_updates", "email_reviews"]


class WebhookEndpointAdminForm(forms.ModelForm):
    """Django admin's endpoint form: the URL passes the same guard as the service and every send."""

    class Meta:
        model = WebhookEndpoint
        fields = "__all__"

    def clean_url(self):
        url = self.cleaned_data["url"]
        try:
            webhook.check_url(url)
        except webhook.WebhookRefused as exc:
            raise forms.ValidationError(str(exc)) from None
        return url
