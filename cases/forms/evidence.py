"""Forms of the evidence pages. Shape only; the rules (hash match, size limit) live in the service."""

from django import forms
from django.utils import timezone

from cases.forms.fields import UtcDateTimeField
from cases.models.exceptions import ActionRefused
from cases.services.evidence import normalize_declared_sha256


class EvidenceUploadForm(forms.Form):
    file = forms.FileField(
        allow_empty_file=True,
        help_text="Any file, malware included: it is stored as received and only ever downloaded, never opened here.",
    )
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What it is and why it matters (for example: memory image of web-03 taken after isolation).",
    )
    collected_at = UtcDateTimeField(required=False, label="Collected at (UTC)")
    collected_where = forms.CharField(
        max_length=300, required=False, label="Collected where", help_text="Host, account, region or path it came from."
    )
    collected_by = forms.CharField(max_length=200, required=False, label="Collected by")
    declared_sha256 = forms.CharField(
        max_length=80, required=False, label="SHA-256 from the collector",
        help_text="Optional. If given, an upload whose bytes hash differently is refused and nothing is stored.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "class": "mono"}),
    )

    def clean_collected_at(self):
        value = self.cleaned_data["collected_at"]
        if value and value > timezone.now():
            raise forms.ValidationError("The collection time is in the future.")
        return value

    def clean_declared_sha256(self):
        try:
            return normalize_declared_sha256(self.cleaned_data["declared_sha256"])
        except ActionRefused as exc:
            raise forms.ValidationError(str(exc)) from None


class SupersedeForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), max_length=2000,
        help_text="Why the item must not be relied on. It stays stored and listed.",
    )


class LegalHoldForm(forms.Form):
    hold = forms.TypedChoiceField(
        choices=[("on", "Place the hold"), ("off", "Release the hold")], coerce=lambda value: value == "on",
        widget=forms.HiddenInput,
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), max_length=2000,
        help_text="Why (for example: litigation hold notice from Legal, ticket LEGAL-142). It goes on the timeline.",
    )
