"""Fixed choices are shared between the forms built from one class, not copied for each (irt/forms.py)."""

from django import forms

from cases.forms.case_list import CaseFilterForm
from irt.forms import FixedChoiceField


class Sorting(forms.Form):
    sort = FixedChoiceField(choices=[("new", "Newest first"), ("old", "Oldest first")])


def test_forms_share_the_choices_and_still_validate_each_on_its_own():
    first, second = Sorting({"sort": "old"}), Sorting({"sort": "sideways"})
    assert first.fields["sort"].choices is second.fields["sort"].choices, "not copied for each form"
    assert first.fields["sort"].widget.choices is second.fields["sort"].widget.choices
    assert first.fields["sort"].widget is not second.fields["sort"].widget
    first.fields["sort"].widget.attrs["class"] = "one form's own"
    assert "class" not in second.fields["sort"].widget.attrs
    assert first.is_valid() and first.cleaned_data == {"sort": "old"}
    assert not second.is_valid() and "sort" in second.errors


def test_choices_assigned_on_one_form_are_that_forms_alone():
    narrowed, other = Sorting(), Sorting()
    narrowed.fields["sort"].choices = [("new", "Newest first")]
    assert [value for value, _ in other.fields["sort"].choices] == ["new", "old"]
    assert [value for value, _ in Sorting().fields["sort"].choices] == ["new", "old"]
    assert 'value="old"' not in str(narrowed["sort"]) and 'value="old"' in str(other["sort"])


def test_the_case_list_filters_are_fixed_choices():
    fields = CaseFilterForm().fields
    assert all(isinstance(fields[name], FixedChoiceField) for name in ("stage", "severity", "owner", "breach", "sort"))
