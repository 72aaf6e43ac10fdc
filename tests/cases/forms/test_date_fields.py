"""Every moment-in-time field: the browser's date-time picker, read as UTC, errors that repeat the format."""

import datetime
import importlib
import pkgutil

import pytest
from django import forms
from django.utils import timezone

from cases.forms import cases as case_forms, clocks as clock_forms, evidence as evidence_forms, metrics as metric_forms
from cases.forms.fields import IsoDateField, UtcDateTimeField

UTC = datetime.timezone.utc

# Every form with a moment in time, and its fields (a new one belongs here: the test below fails without it).
MOMENT_FIELDS = {
    case_forms.CaseOpenForm: ["detected_at"],
    case_forms.TaskForm: ["due_at"],
    case_forms.OutOfBandNoticeForm: ["reached_at"],
    case_forms.DelayRequestForm: ["new_due_at"],
    case_forms.PublishedReviewForm: ["impact_started_at", "impact_ended_at"],
    case_forms.CaseDetailsForm: ["impact_started_at", "impact_ended_at"],
    case_forms.IncidentUpdateForm: ["impact_started_at", "detected_at", "impact_ended_at", "next_update_by"],
    clock_forms.DecisionForm: ["decided_at", "aware_at", "target_at"],
    clock_forms.SubmissionForm: ["submitted_at"],
    evidence_forms.EvidenceUploadForm: ["collected_at"],
}
DATE_FIELDS = {case_forms.RepairItemForm: ["estimated_completion"], metric_forms.MetricsFilterForm: ["since", "until"]}


def all_forms():
    """Return every form class of every form module (Django admin's forms keep the admin's own date widgets)."""
    import cases.forms
    from notifications import forms as notification_forms

    modules = [importlib.import_module(f"cases.forms.{info.name}") for info in pkgutil.iter_modules(cases.forms.__path__)]
    modules.append(notification_forms)
    return {value for module in modules for value in vars(module).values()
            if isinstance(value, type) and issubclass(value, forms.BaseForm) and value.__module__ == module.__name__
            and not value.__name__.endswith("AdminForm")}


@pytest.mark.django_db
def test_every_date_or_time_field_of_every_form_is_the_shared_field():
    found = {}
    for form_class in all_forms():
        for name, field in form_class.base_fields.items():
            if isinstance(field, (forms.DateTimeField, forms.DateField)):
                found.setdefault(form_class, []).append(name)
                assert isinstance(field, (UtcDateTimeField, IsoDateField)), f"{form_class.__name__}.{name}"
    assert {form: sorted(names) for form, names in found.items()} == {
        form: sorted(names) for form, names in {**MOMENT_FIELDS, **DATE_FIELDS}.items()}


@pytest.mark.django_db
@pytest.mark.parametrize(("form_class", "name"), [(form, name) for form, names in MOMENT_FIELDS.items() for name in names])
def test_a_moment_renders_the_browsers_date_time_picker_labelled_utc(form_class, name):
    bound = form_class()[name]
    html = str(bound)
    assert 'type="datetime-local"' in html
    assert "UTC" in bound.label


@pytest.mark.django_db
@pytest.mark.parametrize(("form_class", "name"), [(form, name) for form, names in DATE_FIELDS.items() for name in names])
def test_a_calendar_date_renders_the_browsers_date_picker(form_class, name):
    assert 'type="date"' in str(form_class()[name])


@pytest.mark.parametrize(("typed", "expected"), [
    ("2026-11-29T08:15", datetime.datetime(2026, 11, 29, 8, 15, tzinfo=UTC)),      # what the picker sends
    ("2026-11-29T08:15:30", datetime.datetime(2026, 11, 29, 8, 15, 30, tzinfo=UTC)),
    ("2026-11-29 08:15", datetime.datetime(2026, 11, 29, 8, 15, tzinfo=UTC)),      # typed, as before
    (" 2026-11-29 08:15:00 ", datetime.datetime(2026, 11, 29, 8, 15, tzinfo=UTC)),
    ("2026-11-29T10:15+02:00", datetime.datetime(2026, 11, 29, 8, 15, tzinfo=UTC)),  # an offset is honoured
])
def test_the_field_reads_the_picker_and_the_typed_formats_as_utc(typed, expected):
    assert UtcDateTimeField().clean(typed) == expected


def test_a_naive_time_is_utc_even_when_another_time_zone_is_active():
    with timezone.override(datetime.timezone(datetime.timedelta(hours=-5))):
        value = UtcDateTimeField().clean("2026-11-29T08:15")
    assert value == datetime.datetime(2026, 11, 29, 8, 15, tzinfo=UTC)


@pytest.mark.parametrize("typed", ["yesterday", "29/11/2026 08:15", "2026-13-01T00:00", "2026-11-29T25:00", "1e309", "\x00"])
def test_an_unreadable_time_is_answered_with_the_format_expected(typed):
    with pytest.raises(forms.ValidationError) as refused:
        UtcDateTimeField().clean(typed)
    assert refused.value.messages == ["Enter the date and time as YYYY-MM-DD HH:MM (UTC), for example 2026-11-29 08:15."]


def test_an_unreadable_date_is_answered_with_the_format_expected():
    with pytest.raises(forms.ValidationError) as refused:
        IsoDateField().clean("31/12/2026")
    assert refused.value.messages == ["Enter the date as YYYY-MM-DD, for example 2026-12-31."]
    assert IsoDateField().clean("2026-12-31") == datetime.date(2026, 12, 31)


def test_a_stored_time_is_shown_in_utc_in_the_pickers_format():
    field = UtcDateTimeField(label="Due")
    shown = field.widget.format_value(field.prepare_value(datetime.datetime(2026, 11, 29, 10, 15, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))))
    assert shown == "2026-11-29T08:15"
    assert field.label == "Due (UTC)"


@pytest.mark.django_db
def test_a_task_due_time_from_the_picker_is_saved_in_utc(client, manager):
    from django.urls import reverse

    from cases.models import Case
    from tests.factories import case_in_stage

    case = case_in_stage(Case.Status.ASSESSING, manager=manager)
    client.force_login(manager)
    response = client.post(reverse("cases:task-add", args=[case.reference]), {"title": "Pull the logs", "due_at": "2026-11-29T08:15"})
    assert response.status_code == 302
    assert case.tasks.get(title="Pull the logs").due_at == datetime.datetime(2026, 11, 29, 8, 15, tzinfo=UTC)
