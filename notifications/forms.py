"""Forms of the notifications app: preferences, the delivery filters, webhook endpoints (Django admin and customer administrators)."""

from django import forms

from cases.access.querysets import customer_incidents, visible_cases
from cases.forms.fields import case_by_reference
from cases.models import Service
from irt.forms import ModelChoiceField
from notifications.channels import webhook
from notifications.models import Delivery, Preference, WebhookEndpoint


class PreferenceForm(forms.ModelForm):
    class Meta:
        model = Preference
        fields = ["email_updates_of_breaches", "email_incident_updates", "email_reviews"]


# A subscription choice as posted, and what it means: None is "no choice" (the defaults decide).
SUBSCRIPTION_CHOICES = [("default", "As my email preferences say"), ("receive", "Email me"), ("skip", "Do not email me")]
ORGANIZATION_SUBSCRIPTION_CHOICES = [("default", "No organisation choice"), ("receive", "Email"), ("skip", "Do not email")]
SUBSCRIPTION_VALUES = {"default": None, "receive": True, "skip": False}


class SubscriptionForm(forms.Form):
    """One incident's or one service's follow-up emails: the reader's choice and, for administrators, the organisation's."""

    incident = forms.CharField(max_length=40, required=False)
    service = ModelChoiceField(queryset=Service.objects.all(), required=False)
    mine = forms.TypedChoiceField(choices=SUBSCRIPTION_CHOICES, coerce=SUBSCRIPTION_VALUES.get, label="For me")
    # Absent (empty) unless the page offered it: only administrators choose for the organisation.
    organization = forms.TypedChoiceField(choices=ORGANIZATION_SUBSCRIPTION_CHOICES, coerce=SUBSCRIPTION_VALUES.get,
                                          required=False, empty_value="", label="For the organisation")
    back = forms.ChoiceField(choices=[("preferences", "preferences"), ("incident", "incident")], required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_incident(self):
        """Return the incident, only among the reader's organisation's (the same answer whether it exists or not)."""
        return case_by_reference(customer_incidents(self.user), self.cleaned_data["incident"],
                                 "No incident {reference} of your organisation.")

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        if bool(data.get("incident")) == bool(data.get("service")):
            raise forms.ValidationError("Choose one incident or one service.")
        data["target"] = data.get("incident") or data.get("service")
        return data


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


class DeliveryFilterForm(forms.Form):
    """The delivery list's filters: a status, and one case (``?case=IRT-2026-0001``, linked from the case page)."""

    status = forms.ChoiceField(choices=[("", "Any")] + Delivery.Status.choices, required=False)
    case = forms.CharField(max_length=40, required=False, label="Case reference")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_case(self):
        """Return the case, only among those the user may know (the same answer whether it exists or is hidden)."""
        return case_by_reference(visible_cases(self.user), self.cleaned_data["case"])
