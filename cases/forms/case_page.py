"""The case page's timeline filters and the cursors of its windows (timeline, open tasks), read from the query string."""

from django import forms
from django.contrib.auth.validators import UnicodeUsernameValidator

from cases.models import TimelineEvent
from irt.forms import ID_MAX

# The largest value a PositiveIntegerField (the timeline's ``sequence``) holds on every database.
SEQUENCE_MAX = 2**31 - 1
_KIND_CHOICES = [("", "Every kind"), *TimelineEvent.Kind.choices]


def _kind_choices():
    # Given as a callable, the choices are not deep-copied with the form on every case page (35 of them).
    return _KIND_CHOICES


class CasePageForm(forms.Form):
    """What part of the case page to show: a kind and an actor to filter the timeline, and where each window starts."""

    kind = forms.ChoiceField(choices=_kind_choices, required=False, label="Kind")
    actor = forms.CharField(required=False, max_length=150, label="By (username)", validators=[UnicodeUsernameValidator()])
    # Keyset cursors: the timeline shows events before this sequence number, the task list open tasks after this task.
    before = forms.IntegerField(required=False, min_value=1, max_value=SEQUENCE_MAX, widget=forms.HiddenInput)
    tasks_after = forms.IntegerField(required=False, min_value=1, max_value=ID_MAX, widget=forms.HiddenInput)
