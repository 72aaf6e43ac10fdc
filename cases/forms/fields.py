"""Form fields the form modules share."""

import datetime

from django import forms
from django.utils import timezone

# What every moment-in-time field says when it cannot read a value: the format, with an example.
UTC_FORMAT = "YYYY-MM-DD HH:MM (UTC), for example 2026-11-29 08:15"
DATE_FORMAT = "YYYY-MM-DD, for example 2026-12-31"


def case_by_reference(rows, typed: str, missing: str = "No case {reference} that you can see."):
    """Return the case whose reference was typed, looked up among ``rows`` only; None when nothing was typed.

    ``rows`` is what the user may know (``visible_cases``, ``customer_incidents``): a hidden case and an
    absent one get the same ``missing`` message, so a form never tells anyone that a reference exists.
    """
    reference = (typed or "").strip().upper()
    if not reference:
        return None
    case = rows.filter(reference=reference).first()
    if case is None:
        raise forms.ValidationError(missing.format(reference=reference))
    return case


class ChoicesReadPerForm:
    """Make a model choice field read its rows through a function each time a form is built.

    Who may own a case and which playbook versions are current change while the site runs, and some
    of these functions query at once (``current_version_queryset``), so nothing may be read at import.
    Django deep-copies the declared fields into every new form: the copy is where the function runs.
    """

    def __init__(self, rows, **kwargs):
        self.rows = rows
        super().__init__(queryset=None, **kwargs)

    def __deepcopy__(self, memo):
        field = super().__deepcopy__(memo)
        field.queryset = self.rows()
        return field


class UtcDateTimeInput(forms.DateTimeInput):
    """The browser's date-time picker (``<input type="datetime-local">``), showing its value in UTC."""

    input_type = "datetime-local"
    # The one value format ``datetime-local`` accepts (HTML's "local date and time string").
    format = "%Y-%m-%dT%H:%M"

    def __init__(self, attrs=None):
        super().__init__(attrs={"autocomplete": "off", "data-utc": "true", **(attrs or {})}, format=self.format)


class UtcDateTimeField(forms.DateTimeField):
    """A moment in time, typed or picked as UTC whatever the reader's own time zone.

    Accepts what the browser's picker sends (``2026-11-29T08:15``), the typed forms
    (``2026-11-29 08:15``, with seconds or not) and ISO 8601 with an offset (converted to UTC). The
    label says "UTC", and an unreadable value is answered with the format expected, so the person can
    fix it at once.
    """

    widget = UtcDateTimeInput
    input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
    default_error_messages = {"invalid": f"Enter the date and time as {UTC_FORMAT}."}

    def __init__(self, *, label=None, **kwargs):
        if label and "UTC" not in str(label):
            label = f"{label} (UTC)"
        super().__init__(label=label, **kwargs)

    def to_python(self, value):
        # A naive value is UTC, not the current time zone (which a request may have activated).
        with timezone.override(datetime.timezone.utc):
            return super().to_python(value)

    def prepare_value(self, value):
        if isinstance(value, datetime.datetime) and timezone.is_aware(value):
            return timezone.make_naive(value, datetime.timezone.utc)
        return value


class IsoDateInput(forms.DateInput):
    """The browser's date picker (``<input type="date">``), its value as ``YYYY-MM-DD``."""

    input_type = "date"
    format = "%Y-%m-%d"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format=self.format)


class IsoDateField(forms.DateField):
    """A calendar date (no time of day); an unreadable value is answered with the format expected."""

    widget = IsoDateInput
    input_formats = ["%Y-%m-%d"]
    default_error_messages = {"invalid": f"Enter the date as {DATE_FORMAT}."}
