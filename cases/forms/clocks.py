"""Forms for regulatory clocks: decisions, submissions, the reason to close anyway, the declare-breach choice."""

from django import forms

from cases.models import ClockDecision, Evidence
from cases.forms.fields import UtcDateTimeField
from irt.forms import ModelChoiceField


class DecisionForm(forms.Form):
    kind = forms.ChoiceField(choices=ClockDecision.Kind.choices, label="Decision")
    decided_at = UtcDateTimeField(required=False, label="When (UTC)", help_text="Leave empty for now.")
    aware_at = UtcDateTimeField(required=False, label="Aware since (UTC, DORA)",
                                help_text="DORA: the initial notification is due at most 24 h after this. Empty: the detection time.")
    target_at = UtcDateTimeField(required=False, label="Target (UTC, GDPR Art. 34)")
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=10_000, help_text="What the decision rests on.")


class SubmissionForm(forms.Form):
    recipient = forms.CharField(max_length=300, required=False, help_text="Empty: the recipient the rule names.")
    submitted_at = UtcDateTimeField(required=False, label="Sent at (UTC)", help_text="Leave empty for now.")
    content = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=50_000, label="What was sent")
    reference_number = forms.CharField(max_length=200, required=False)
    evidence = ModelChoiceField(queryset=Evidence.objects.none(), required=False, label="Document (evidence)")

    def __init__(self, *args, case=None, **kwargs):
        super().__init__(*args, **kwargs)
        if case is not None:
            self.fields["evidence"].queryset = Evidence.objects.filter(case=case)


class CloseOverrideForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=5_000,
                             help_text="Why the case may close while this clock runs.")


def regimes_field(initial=()):
    """Return the declare-breach form's question: which regimes' decisions to record now."""
    return forms.MultipleChoiceField(
        choices=[(k, label) for k, label in ClockDecision.Kind.choices if k != ClockDecision.Kind.HIGH_RISK],
        required=False, widget=forms.CheckboxSelectMultiple, initial=list(initial),
        label="Clocks this breach starts",
        help_text="Pre-ticked from the affected organisations (in the EU, NIS2, financial, HIPAA). "
        "Each ticked decision is recorded in your name with the note above.",
    )
