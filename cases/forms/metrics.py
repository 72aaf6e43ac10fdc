"""The period and grouping filters of the metrics page."""

from django import forms

from cases.forms.fields import IsoDateField
from cases.selectors.metrics import DIMENSIONS, Period, default_period


class MetricsFilterForm(forms.Form):
    since = IsoDateField(required=False, label="Detected from")
    until = IsoDateField(required=False, label="Detected until")
    by = forms.ChoiceField(choices=DIMENSIONS.items(), required=False, label="Group by")

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            raise forms.ValidationError("The start of the period is after its end.")
        return data

    def period_and_dimension(self) -> tuple[Period, str]:
        """Return the chosen period and grouping, the defaults (the last year, by month) for what is missing."""
        default = default_period()
        data = self.cleaned_data if self.is_valid() else {}
        period = Period(since=data.get("since") or default.since, until=data.get("until") or default.until)
        return period, data.get("by") or "month"
