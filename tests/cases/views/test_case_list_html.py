"""The case list writes the same HTML as Django's templates would, only cheaper (issue 18).

Its filters' and bulk action's ``<select>``s are written without a template per option
(``cases.forms.widgets.FlatSelect``), and each row's link is built from one reversed URL.
"""

import pytest
from django import forms
from django.http import QueryDict
from django.urls import reverse

from cases.forms.case_list import BulkActionForm, CaseFilterForm
from cases.forms.widgets import FlatSelect
from cases.selectors import cases as selectors
from tests.factories import CaseFactory

QUERIES = ["", "stage=", "stage=closed&severity=high&owner=mine&breach=yes&sort=-owner", "stage=no-such&sort=sideways",
           "severity=%3Cb%3E", "owner=none&owner=me"]


def as_django_writes_it(form):
    for field in form.fields.values():
        if isinstance(field.widget, FlatSelect):
            field.widget = forms.Select(choices=field.choices)
    return form


@pytest.mark.parametrize("query", QUERIES)
def test_the_filters_are_written_as_django_s_select_writes_them(query):
    ours, django_s = CaseFilterForm(QueryDict(query)), as_django_writes_it(CaseFilterForm(QueryDict(query)))
    ours.is_valid(), django_s.is_valid()
    assert [field for field in ours.fields.values() if isinstance(field.widget, FlatSelect)], "the filters use FlatSelect"
    for name in ours.fields:
        assert str(ours[name]) == str(django_s[name]), name


@pytest.mark.django_db
def test_the_bulk_action_is_written_as_django_s_select_writes_it(manager):
    for data in (None, {"action": "add_member"}, {"action": "nonsense"}):
        ours = BulkActionForm(data, user=manager, auto_id="bulk_%s")
        django_s = as_django_writes_it(BulkActionForm(data, user=manager, auto_id="bulk_%s"))
        if data:
            ours.is_valid(), django_s.is_valid()
        assert str(ours["action"]) == str(django_s["action"])


def test_a_choice_select_refuses_grouped_choices():
    with pytest.raises(TypeError):
        FlatSelect(choices=[("Group", [("a", "A")])]).render("x", "a")


@pytest.mark.django_db
def test_each_row_links_to_its_case_as_reverse_does(client, manager):
    cases = [CaseFactory(by=manager) for _ in range(3)]
    client.force_login(manager)
    page = client.get(reverse("cases:list")).content.decode()
    for case in cases:
        assert f'<a class="mono" href="{case.get_absolute_url()}">{case.reference}</a>' in page


@pytest.mark.django_db
def test_the_listed_rows_are_cases_as_the_orm_reads_them(manager, responder):
    owned = CaseFactory(by=manager, owner=responder, severity="high")
    unowned = CaseFactory(by=manager)
    filters = {"q": "", "stage": "", "owner": "", "breach": "", "severity": "", "sort": ""}
    page = selectors.case_list_page(manager, filters=filters, number=1, per_page=50)
    listed = {case.pk: case for case in selectors.list_cases(page.object_list)}
    for case in (owned, unowned):
        case.refresh_from_db()
        shown = listed[case.pk]
        for name in ("reference", "title", "status", "severity", "breach_declared_at", "restricted", "detected_at", "owner_id",
                     "version", "timeline_head"):
            assert getattr(shown, name) == getattr(case, name), name
        assert shown.get_status_display() == case.get_status_display()
        assert (shown.owner.display_name if shown.owner else None) == (case.owner.display_name if case.owner else None)
