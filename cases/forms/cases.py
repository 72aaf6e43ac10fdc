"""Forms for responders' input. Validation of shape lives here; rules live in the services."""

from django import forms
from django.utils import timezone

from cases.access.querysets import visible_cases
from cases.models import Case, IncidentUpdate, Organization, OutOfBandNotice, PublishedReview, RepairItem, Service, User
from irt.forms import ID_MAX, ModelChoiceField, ModelMultipleChoiceField
from cases.forms.clocks import regimes_field
from cases.forms.fields import ChoicesReadPerForm, IsoDateField, UtcDateTimeField, case_by_reference
from cases.forms.playbooks import VersionChoiceField, current_version_queryset
from cases.forms.widgets import FlatSelect


def staff_users():
    """Return the response team, who can be members or assignees (one query when evaluated)."""
    return User.objects.staff().order_by("username")


def case_owners():
    """Return who may own a case: the owner pickers offer exactly whom ``assign_owner`` accepts."""
    return User.objects.case_owners().order_by("username")


def markdown_textarea(rows: int = 4) -> forms.Textarea:
    """Return a textarea for Markdown text: its field says "Markdown allowed" and offers a preview (partials/field.html)."""
    return forms.Textarea(attrs={"rows": rows, "data-markdown": "true"})


class MarkdownPreviewForm(forms.Form):
    """The text a writer asks to see rendered, as long as the longest Markdown field allows."""

    text = forms.CharField(required=False, strip=False, max_length=50_000)


class StaffChoiceField(ChoicesReadPerForm, ModelChoiceField):
    widget = FlatSelect

    def label_from_instance(self, obj):
        return obj.display_name


def read_choices_once(*fields) -> None:
    """Let several fields that offer the same rows (one page's member and assignee pickers) share one read of them.

    A model choice field queries its rows each time it is rendered; this reads them once and hands
    every field's widget the same rows, each with its own empty choice.
    """
    rows = list(fields[0].queryset)
    for field in fields:
        empty = [("", field.empty_label)] if field.empty_label is not None else []
        field.widget.choices = empty + [(row.pk, field.label_from_instance(row)) for row in rows]


class VersionedForm(forms.Form):
    """Carries the case version the user saw, so a stale submission is caught."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=ID_MAX)


class CaseOpenForm(forms.Form):
    title = forms.CharField(max_length=200, help_text="A short, specific description: what was seen, where.")
    source = forms.ChoiceField(choices=Case.Source.choices)
    detected_at = UtcDateTimeField(
        required=False, label="Detected at (UTC)", help_text="Leave empty to use the current time.",
    )
    severity = forms.ChoiceField(
        choices=[("", "Not assessed yet")] + Case.Severity.choices, required=False,
        help_text="Critical: customer data confirmed affected. High: likely customer impact. "
        "Medium: limited impact. Low: no customer impact expected.",
    )
    owner = StaffChoiceField(case_owners, required=False, empty_label="Nobody yet")
    services = ModelMultipleChoiceField(
        queryset=Service.objects.all(), required=False, widget=forms.CheckboxSelectMultiple, label="Affected services"
    )
    internal_summary = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}), required=False, help_text="Internal only; customers never see it."
    )
    restricted = forms.BooleanField(
        required=False, help_text="Only members see a restricted case, managers included unless added."
    )
    # Empty: the case page suggests the best-matching playbook (and one marked auto-apply is applied).
    playbook = VersionChoiceField(current_version_queryset, required=False, empty_label="Suggest the best match after opening")

    def clean_detected_at(self):
        value = self.cleaned_data.get("detected_at")
        if value and value > timezone.now():
            raise forms.ValidationError("Detection cannot be in the future.")
        return value


class CaseDetailsForm(VersionedForm):
    title = forms.CharField(max_length=200)
    source = forms.ChoiceField(choices=Case.Source.choices)
    severity = forms.ChoiceField(choices=[("", "Not assessed yet")] + Case.Severity.choices, required=False)
    classification = forms.ChoiceField(choices=[("", "Not classified yet")] + Case.Classification.choices, required=False)
    breach_category = forms.ChoiceField(choices=Case.BreachCategory.choices)
    scope = forms.ChoiceField(
        choices=[("", "Not set")] + Case.Scope.choices, required=False, label="Shared-responsibility scope",
        help_text="Provider: our side failed. Customer: their configuration or credentials. Shared: both.",
    )
    services = ModelMultipleChoiceField(
        queryset=Service.objects.all(), required=False, widget=forms.CheckboxSelectMultiple, label="Affected services"
    )
    internal_summary = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}), required=False)
    restricted = forms.BooleanField(required=False)
    impact_started_at = UtcDateTimeField(
        required=False, label="Impact started", help_text="Internal. Customers read it only in an approved update.",
    )
    impact_ended_at = UtcDateTimeField(required=False, label="Impact ended", help_text="Leave empty while the impact is ongoing.")


class TransitionForm(VersionedForm):
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=10_000)
    dismissal_reason = forms.ChoiceField(choices=[("", "Choose a reason")] + Case.DismissalReason.choices, required=False)
    duplicate_of = forms.CharField(required=False, max_length=20, help_text="Reference of the original case, e.g. IRT-2026-0001")

    def __init__(self, *args, user=None, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_duplicate_of(self):
        return case_by_reference(visible_cases(self.user) if self.user else Case.objects.none(),
                                 self.cleaned_data.get("duplicate_of", ""))


class OwnerForm(VersionedForm):
    owner = StaffChoiceField(case_owners, required=False, empty_label="Nobody")


class MemberForm(forms.Form):
    user = StaffChoiceField(staff_users, label="Add member")


class NoteForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=20_000, label="Add a note")


class TaskForm(forms.Form):
    title = forms.CharField(max_length=200)
    assignee = StaffChoiceField(staff_users, required=False, empty_label="Unassigned")
    due_at = UtcDateTimeField(required=False, label="Due (UTC)")
    mandatory = forms.BooleanField(required=False, help_text="Open mandatory tasks block closing.")


def impact_statement_field(help_text: str) -> forms.CharField:
    """Return the customer-visible statement of what happened to their data."""
    return forms.CharField(widget=markdown_textarea(3), required=False, max_length=10_000, help_text=help_text)


class DataImpactForm(forms.Form):
    """The ticks that make an affected customer breached, asked alike when adding and when editing one."""

    data_lost = forms.BooleanField(required=False, label="Data lost")
    data_altered = forms.BooleanField(required=False, label="Data altered")
    data_disclosed = forms.BooleanField(required=False, label="Data disclosed")


class AffectedCustomerForm(DataImpactForm):
    organization = ModelChoiceField(queryset=Organization.objects.all(), label="Organisation", widget=FlatSelect)
    impact_statement = impact_statement_field("Customer-visible. What happened to their data, in words they can act on.")
    field_order = ["organization"]

    def offer_only_organizations_not_in(self, organization_ids) -> None:
        """Offer only the organisations not on the case yet, read as (id, name) pairs rather than one model each."""
        field = self.fields["organization"]
        field.queryset = Organization.objects.exclude(pk__in=organization_ids)
        field.widget.choices = [("", field.empty_label), *field.queryset.values_list("pk", "name")]  # __str__ is the name


class AffectedCustomerEditForm(DataImpactForm):
    impact_statement = impact_statement_field(
        "Customer-visible. Once confirmed, a change reaches the customer only when a second person confirms it."
    )


class OutOfBandNoticeForm(forms.Form):
    channel = forms.ChoiceField(choices=OutOfBandNotice.Channel.choices, label="How they were reached")
    person_reached = forms.CharField(max_length=200, help_text="Name and role of the person at the organisation.")
    reached_at = UtcDateTimeField(label="Reached at (UTC)")
    evidence_reference = forms.CharField(
        max_length=300, help_text="Call log id, letter tracking number, ticket number or message id.",
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=5_000)


class DeclareBreachForm(VersionedForm):
    """Declare a breach; when the case's details disagree with one, offer to fix them or ask to declare anyway.

    What disagrees is the model's answer (``Case.breach_detail_conflicts``); this form only asks.
    """

    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), max_length=10_000,
        label="What makes this a breach",
        help_text="The evidence that customer data was lost, altered or disclosed.",
    )
    raise_severity = forms.BooleanField(required=False, label="Raise severity to Critical")
    breach_category = forms.ChoiceField(
        choices=[("", "Leave as it is")] + [choice for choice in Case.BreachCategory.choices if choice[0] != Case.BreachCategory.NONE],
        required=False, label="Breach category",
        help_text="Privacy: personal data. Proprietary: the customer's confidential business data. Integrity: data altered or lost.",
    )
    accept_conflicts = forms.BooleanField(required=False, label="Declare with these details anyway (the timeline records it)")
    confirm = forms.BooleanField(label="I confirm: start the customer-notice clock now.")

    def __init__(self, *args, case, regime_defaults=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.case = case
        # The details that disagree now, before anything is chosen: what the page shows.
        self.conflicts = case.breach_detail_conflicts()
        codes = {conflict.code for conflict in self.conflicts}
        if "severity_not_critical" not in codes:
            del self.fields["raise_severity"]
        if not codes & {"no_breach_category", "classification_disagrees"}:
            del self.fields["breach_category"]
        if not self.conflicts:
            del self.fields["accept_conflicts"]
        # The regulatory clocks this breach starts (cases/forms/clocks.py), pre-ticked per organisation.
        self.fields["regimes"] = regimes_field(regime_defaults)
        self.order_fields(["version", "note", "regimes", "raise_severity", "breach_category", "accept_conflicts", "confirm"])

    def clean(self):
        data = super().clean()
        if self.conflicts:
            remaining = self.case.breach_detail_conflicts(**self.detail_changes())
            if remaining and not data.get("accept_conflicts"):
                self.add_error("accept_conflicts", [
                    "These details still disagree with a breach:", *remaining,
                    "Change them above, or tick this box to declare with them as they are.",
                ])
        return data

    def detail_changes(self) -> dict:
        """Return the details the declarer chose to set with the declaration (``declare_breach``'s keywords)."""
        data = getattr(self, "cleaned_data", {})
        changes = {}
        if data.get("raise_severity"):
            changes["severity"] = Case.Severity.CRITICAL
        if data.get("breach_category"):
            changes["breach_category"] = data["breach_category"]
        return changes


class DelayRequestForm(forms.Form):
    new_due_at = UtcDateTimeField(label="New due time (UTC)")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=5_000)


class ReviewForm(forms.Form):
    what_happened = forms.CharField(widget=markdown_textarea(5), max_length=50_000, help_text="Impact window in UTC, who was affected.")
    what_went_wrong = forms.CharField(widget=markdown_textarea(5), max_length=50_000, help_text="Root cause and contributing factors.")
    how_we_responded = forms.CharField(widget=markdown_textarea(5), max_length=50_000, required=False)


class IncidentUpdateForm(forms.ModelForm):
    """Customer-visible text only. Markdown is allowed in the long fields."""

    class Meta:
        model = IncidentUpdate
        fields = [
            "status", "public_title", "what_happened", "what_we_know", "what_we_are_doing", "what_you_should_do", "affected_services",
            "impact_started_at", "detected_at", "impact_ended_at", "next_update_by",
        ]
        widgets = {name: markdown_textarea() for name in ["what_happened", "what_we_know", "what_we_are_doing", "what_you_should_do"]}
        help_texts = {
            "public_title": "Customers see this. No internal names, no other customers.",
            "what_happened": "Customer-visible.",
            "impact_started_at": "Customer-visible. Filled in from the case; leave empty if not known yet.",
            "detected_at": "Customer-visible. When the team first knew.",
        }
        field_classes = {name: UtcDateTimeField for name in ["impact_started_at", "detected_at", "impact_ended_at", "next_update_by"]}


class CorrectionForm(forms.Form):
    """Which published update of the case a new update corrects (``?corrects=`` or the hidden field)."""

    corrects = ModelChoiceField(queryset=IncidentUpdate.objects.none(), required=False)

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["corrects"].queryset = case.updates.filter(published_at__isnull=False)


class PublishedReviewForm(forms.ModelForm):
    class Meta:
        model = PublishedReview
        fields = [
            "title", "audience", "impact_started_at", "impact_ended_at", "who_was_affected", "what_happened",
            "what_went_wrong", "how_we_responded", "how_customers_can_reduce_impact",
        ]
        widgets = {
            **{name: markdown_textarea() for name in
               ["who_was_affected", "what_happened", "what_went_wrong", "how_we_responded", "how_customers_can_reduce_impact"]},
        }
        field_classes = {"impact_started_at": UtcDateTimeField, "impact_ended_at": UtcDateTimeField}
        help_texts = {
            "audience": "Public reviews appear on /lessons/ for anyone; otherwise only affected organisations see it.",
            "who_was_affected": "Describe the affected population without naming customers.",
        }


class RepairItemForm(forms.Form):
    title = forms.CharField(max_length=300, label="Repair item", help_text="Customer-visible.")
    estimated_completion = IsoDateField(required=False)


class RepairStatusForm(forms.Form):
    status = forms.ChoiceField(choices=RepairItem.Status.choices)
