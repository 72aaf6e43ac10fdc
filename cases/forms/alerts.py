"""Forms of the triage queue: the queue filter and the promote, attach and dismiss actions."""

from django import forms

from cases.models import AlertGroup


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(choices=[("", "Any status"), *AlertGroup.Status.choices], required=False)


class PromoteForm(forms.Form):
    title = forms.CharField(max_length=200, required=False, help_text="Leave empty to use the group's title.")
    restricted = forms.BooleanField(required=False, help_text="Only members will see the new case.")


class AttachForm(forms.Form):
    case = forms.CharField(label="Case reference", max_length=20, help_text="For example IRT-2026-0042.")

    def clean_case(self):
        return self.cleaned_data["case"].strip().upper()


class DismissForm(forms.Form):
    reason = forms.ChoiceField(choices=AlertGroup.DismissalReason.choices)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)
