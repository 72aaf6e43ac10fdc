"""Choice fields: ids taken from a request (an id beyond 64 bits is a form error, not a 500), and fixed choices.

SQLite ("Python int too large to convert to SQLite INTEGER") and PostgreSQL ("value out of range")
raise, rather than match nothing, when a query is handed an integer wider than 64 bits, so an id
from a request body or query string is checked against that range before any query sees it.
"""

import copy

from django import forms
from django.db import models

# The range of a BigAutoField, the widest integer key any model here has.
ID_MIN = -(2**63)
ID_MAX = 2**63 - 1


def out_of_range(value) -> bool:
    """Return whether the value is an integer no database column here can hold."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        # Not an integer at all: Django's own fields already answer that with a form error.
        return False
    return not ID_MIN <= number <= ID_MAX


class FixedChoiceField(forms.ChoiceField):
    """A ChoiceField whose choices are fixed where its form is defined: every form shares them instead of copying them.

    Django deep-copies each field's choices for each form it builds, tuple by tuple; the case list's
    filters spent about 50 µs of every request on it (issue 18). Assigning ``field.choices`` on one
    form still replaces them for that form alone; changing the list in place would change it for all.
    """

    def __deepcopy__(self, memo):
        # Django's Field copy, with Widget's own copy of the widget (its attributes) in place of ChoiceWidget's (its choices too).
        result = copy.copy(self)
        memo[id(self)] = result
        result.widget = forms.Widget.__deepcopy__(self.widget, memo)
        result.error_messages = self.error_messages.copy()
        result.validators = self.validators[:]
        return result


class _BoundedIdMixin:
    """Check ids against the database's integer range when the choice key is an integer column."""

    def _out_of_range(self, value) -> bool:
        if isinstance(value, self.queryset.model):
            return False
        meta = self.queryset.model._meta
        key = meta.get_field(self.to_field_name) if self.to_field_name else meta.pk
        return isinstance(key, models.IntegerField) and out_of_range(value)


class ModelChoiceField(_BoundedIdMixin, forms.ModelChoiceField):
    """A ModelChoiceField that answers an id beyond 64 bits with "Select a valid choice"."""

    def to_python(self, value):
        if value not in self.empty_values and self._out_of_range(value):
            raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


class ModelMultipleChoiceField(_BoundedIdMixin, forms.ModelMultipleChoiceField):
    """A ModelMultipleChoiceField that answers ids beyond 64 bits with "Select a valid choice"."""

    def _check_values(self, value):
        # Django checks each id on its own (exact lookups of out-of-range ids match nothing) but then
        # fetches them all with ``__in``, which hands the database the raw integer.
        for item in value:
            if self._out_of_range(item):
                raise forms.ValidationError(
                    self.error_messages["invalid_choice"], code="invalid_choice", params={"value": str(item)[:40]}
                )
        return super()._check_values(value)
