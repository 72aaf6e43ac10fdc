"""The case list's total and ids come from queries compiled once per role and filters (issue 18): the ORM's rows exactly.

``cases.selectors.cases.case_list_page`` runs ``case_list`` as SQL compiled from a stand-in user of
the reader's role, with the reader's id as a parameter. For every role and every filter, sort and
page here, the page holds the very cases, in the very order, and the very total the ORM's
``case_list`` gives for the reader, so no reader ever lists a case they may not know.
"""

import itertools
from datetime import timedelta

import pytest
from django.core.paginator import Paginator
from django.utils import timezone

from cases.forms.case_list import SORT_CHOICES, CaseFilterForm
from cases.models import Case
from cases.selectors import cases as selectors
from cases.services import cases as case_services
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db

STAGES = [value for value, _ in CaseFilterForm.base_fields["stage"].choices]
OWNERS = [value for value, _ in CaseFilterForm.base_fields["owner"].choices]
BREACHES = [value for value, _ in CaseFilterForm.base_fields["breach"].choices]
SEVERITIES = [value for value, _ in CaseFilterForm.base_fields["severity"].choices]
SORTS = ["", *(value for value, _ in SORT_CHOICES)]


@pytest.fixture
def cases(manager, second_manager, responder, other_responder):
    """Cases of every stage, severity and owner, some restricted (with and without the readers as members), some breached."""
    now = timezone.now()
    made = []
    owners = [None, manager, responder, second_manager]
    for i in range(16):
        case = CaseFactory(by=manager, owner=owners[i % 4], title=f"Case {chr(65 + (i * 7) % 16)}",
                           severity=["", "low", "medium", "high", "critical"][i % 5], restricted=i % 3 == 0)
        made.append(case)
    for i, case in enumerate(made):
        if i % 4 == 1:
            case_services.add_member(case=case, by=manager, user=other_responder)
    statuses = Case.Status.values
    for i, case in enumerate(made):
        Case.objects.filter(pk=case.pk).update(
            status=statuses[i % len(statuses)], detected_at=now - timedelta(hours=i % 5),
            breach_declared_at=now if i % 6 == 2 else None)
    return made


def orm_ids(user, filters) -> list[int]:
    return list(selectors.case_list(user, filters=filters).values_list("pk", flat=True))


@pytest.mark.parametrize("who", ["manager", "second_manager", "responder", "other_responder", "comms", "admin"])
def test_every_filter_and_sort_lists_what_the_orm_lists(cases, who, request):
    user = request.getfixturevalue(who)
    for i, (stage, owner, breach) in enumerate(itertools.product(STAGES, OWNERS, BREACHES)):
        filters = {"q": "", "stage": stage, "owner": owner, "breach": breach,
                   "severity": SEVERITIES[i % len(SEVERITIES)], "sort": SORTS[i % len(SORTS)]}
        expected = orm_ids(user, filters)
        page = selectors.case_list_page(user, filters=filters, number=1, per_page=50)
        assert [row[0] for row in page.object_list] == expected, filters
        assert page.paginator.count == len(expected)


@pytest.mark.parametrize("sort", SORTS)
def test_every_page_and_a_page_out_of_range_is_the_orm_s(cases, manager, other_responder, sort):
    """Pages of three, as Django's Paginator turns the ORM's ids into pages (a page past the end is the last one)."""
    for user in (manager, other_responder):
        filters = {"q": "", "stage": "", "owner": "", "breach": "", "severity": "", "sort": sort}
        expected = Paginator(orm_ids(user, filters), 3)
        for number in [*range(1, expected.num_pages + 1), 0, -1, 99, "abc", "2.0", None]:
            page = selectors.case_list_page(user, filters=filters, number=number, per_page=3)
            want = expected.get_page(number)
            assert [row[0] for row in page.object_list] == list(want.object_list), (user, number)
            assert (page.number, page.paginator.num_pages) == (want.number, want.paginator.num_pages)


def test_a_reader_of_one_role_never_lists_another_s_cases(cases, responder, other_responder):
    """Two responders share a compiled query; each lists only the cases they own or are members of."""
    filters = {"q": "", "stage": "", "owner": "", "breach": "", "severity": "", "sort": ""}
    listed = {user: [row[0] for row in selectors.case_list_page(user, filters=filters, number=1, per_page=50).object_list]
              for user in (responder, other_responder)}
    assert listed[responder] == orm_ids(responder, filters) and listed[other_responder] == orm_ids(other_responder, filters)
    assert listed[responder] != listed[other_responder]
    restricted = set(Case.objects.filter(restricted=True).values_list("pk", flat=True))
    assert restricted & set(listed[other_responder]) <= set(Case.objects.filter(
        restricted=True, caseuserobjectpermission__user=other_responder).values_list("pk", flat=True))


def test_a_search_lists_what_the_orm_lists(cases, manager):
    filters = {"q": "Case A", "stage": "", "owner": "", "breach": "", "severity": "", "sort": ""}
    page = selectors.case_list_page(manager, filters=filters, number=1, per_page=50)
    assert [row[0] for row in page.object_list] == orm_ids(manager, filters) != []


@pytest.mark.parametrize("whole_until", [0, 6])
def test_pages_read_by_their_ids_are_the_rows_of_pages_read_whole(cases, manager, other_responder, monkeypatch, whole_until):
    """The first pages are read whole in one query, deeper ones by their ids and then their rows: the same rows either way."""

    def pages(user, filters, count):
        return [selectors.case_list_page(user, filters=filters, number=number, per_page=3).object_list for number in range(1, count + 1)]

    for user in (manager, other_responder):
        for sort in SORTS:
            filters = {"q": "", "stage": "", "owner": "", "breach": "", "severity": "", "sort": sort}
            expected = Paginator(orm_ids(user, filters), 3)
            whole = pages(user, filters, expected.num_pages)
            monkeypatch.setattr(selectors, "WHOLE_ROWS_UNTIL", whole_until)
            by_ids = pages(user, filters, expected.num_pages)
            monkeypatch.undo()
            assert by_ids == whole, (user, sort)
            assert [[row[0] for row in page] for page in whole] == [list(expected.page(n).object_list) for n in expected.page_range]
            assert all(len(row) == len(selectors.LIST_ROW_COLUMNS) for page in whole for row in page)
