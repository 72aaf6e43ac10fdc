"""Queries run on every request with the same SQL are planned once per connection on PostgreSQL (irt/db/postgresql/base.py).

``PreparedQuery`` (cases/access/prepared.py) runs its SQL through ``planned_once_cursor``: the
server prepares the statement once and then only runs it. These tests show that it does, that the
rows are the ORM's, that Django still logs and counts the query, and that nothing else is prepared.
"""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.access.lookups import get_case_for
from cases.models import Case
from tests.factories import CaseFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="server-side prepared statements are PostgreSQL's"),
]


def prepared_statements() -> dict[str, int]:
    """Return this connection's prepared statements: their SQL and how many times each ran."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements")
        return dict(cursor.fetchall())


def test_the_case_lookup_is_prepared_once_and_then_only_run(manager):
    case = CaseFactory(by=manager, owner=manager)
    for _ in range(3):
        found = get_case_for(manager, case.reference)
    assert found == case and found.title == Case.objects.get(pk=case.pk).title
    assert found.member_ids() == set(Case.objects.get(pk=case.pk).member_ids())
    runs = [count for statement, count in prepared_statements().items()
            if re.search(r'FROM "cases_case" WHERE "cases_case"."reference" = \$\d+', statement)]
    assert runs == [3], "one statement, prepared once, run three times"


def test_a_prepared_query_is_logged_and_counted_with_its_values(manager):
    case = CaseFactory(by=manager, owner=manager)
    with CaptureQueriesContext(connection) as captured:
        get_case_for(manager, case.reference)
    assert len(captured.captured_queries) == 1
    assert f"'{case.reference}'" in captured.captured_queries[0]["sql"]


def test_django_s_own_queries_are_not_prepared(manager):
    before = set(prepared_statements())
    for _ in range(10):  # psycopg's own threshold is 5: twice that, and still nothing
        list(Case.objects.filter(owner=manager).values_list("pk"))
    assert set(prepared_statements()) == before


def test_a_missing_case_is_still_a_404_after_the_lookup_is_prepared(manager):
    from django.http import Http404

    case = CaseFactory(by=manager, owner=manager)
    get_case_for(manager, case.reference)
    with pytest.raises(Http404):
        get_case_for(manager, "IRT-1999-0001")
