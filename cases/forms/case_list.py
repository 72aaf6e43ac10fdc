"""The case list's filters and sorting, the search box, and the managers' bulk actions on listed cases."""

from django import forms

from cases.access.querysets import visible_cases
from cases.forms.cases import StaffChoiceField, staff_users
from cases.forms.widgets import FlatSelect
from cases.models import Case
from irt.forms import FixedChoiceField, ModelMultipleChoiceField

# Sort keys the list's column headings and its "Sort by" field offer ("-" first for descending), and the default.
SORT_CHOICES = [
    ("-detected", "Newest first"), ("detected", "Oldest first"),
    ("severity", "Most severe first"), ("-severity", "Least severe first"),
    ("stage", "Earliest stage first"), ("-stage", "Latest stage first"),
    ("reference", "Reference, A to Z"), ("-reference", "Reference, Z to A"),
    ("title", "Title, A to Z"), ("-title", "Title, Z to A"),
    ("owner", "Owner, A to Z"), ("-owner", "Owner, Z to A"),
]
DEFAULT_SORT = "-detected"


class SearchForm(forms.Form):
    q = forms.CharField(required=False, label="Search", max_length=200, strip=True)


class CaseFilterForm(SearchForm):
    """Filters that combine (all must hold). Without ``stage`` in the query the list shows open cases only."""

    stage = FixedChoiceField(choices=[("open", "All open"), ("", "Any stage")] + Case.Status.choices, required=False, widget=FlatSelect)
    severity = FixedChoiceField(choices=[("", "Any severity")] + Case.Severity.choices, required=False, widget=FlatSelect)
    owner = FixedChoiceField(
        choices=[("", "Anyone"), ("me", "Owned by me"), ("mine", "Mine (owner or member)"), ("none", "Nobody")], required=False,
        widget=FlatSelect,
    )
    breach = FixedChoiceField(choices=[("", "Breach or not"), ("yes", "Breach declared"), ("no", "No breach")], required=False, widget=FlatSelect)
    sort = FixedChoiceField(choices=SORT_CHOICES, required=False, label="Sort by", widget=FlatSelect)

    def __init__(self, data=None, **kwargs):
        # The list opens on the open cases: a query without ``stage`` means "open"; "Any stage" sends it empty.
        if data is not None and "stage" not in data:
            data = data.copy()
            data["stage"] = "open"
        super().__init__(data, **kwargs)


class ReferencesField(ModelMultipleChoiceField):
    """Cases chosen by reference; a NUL character (which PostgreSQL refuses in a query) is not a valid choice."""

    def _check_values(self, value):
        if any("\x00" in str(item) for item in value):
            raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice", params={"value": "?"})
        return super()._check_values(value)


class BulkActionForm(forms.Form):
    """A manager's action on several listed cases at once; each case then goes through its own service call."""

    ASSIGN_OWNER = "assign_owner"
    ADD_MEMBER = "add_member"

    action = forms.ChoiceField(choices=[(ASSIGN_OWNER, "Assign owner"), (ADD_MEMBER, "Add member")], widget=FlatSelect)
    user = StaffChoiceField(staff_users, label="Person")
    cases = ReferencesField(queryset=Case.objects.none(), to_field_name="reference", label="Cases")
    next = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # Only cases the manager may know can be chosen: any other reference is "not a valid choice".
        self.fields["cases"].queryset = visible_cases(user).order_by("reference")
