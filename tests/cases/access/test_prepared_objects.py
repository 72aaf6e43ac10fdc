"""Prepared queries that return model instances, take a time, or may leave a placeholder out (the dashboard, issue 18)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.utils import timezone

from cases.access.prepared import PreparedQuery
from cases.models import Case, Task
from tests.factories import CaseFactory, TaskFactory

A, B = datetime(1901, 1, 1, 1, 1, 1, tzinfo=UTC), datetime(1902, 2, 2, 2, 2, 2, tzinfo=UTC)


def _due_tasks(*, before):
    return (Task.objects.filter(due_at__lte=before).select_related("case", "case__owner")
            .annotate(label=Concat(F("title"), Value("!"))).order_by("due_at", "pk"))


DUE_TASKS = PreparedQuery(_due_tasks, placeholders={"before": A}, others={"before": B})


def test_objects_are_the_orms_instances_with_their_related_objects_and_annotations(manager, responder, django_assert_num_queries):
    now = timezone.now()
    case = CaseFactory(by=manager, owner=responder)
    soon = TaskFactory(case=case, by=manager, due_at=now + timedelta(hours=1))
    TaskFactory(case=case, by=manager, due_at=now + timedelta(hours=5))
    expected = list(_due_tasks(before=now + timedelta(hours=2)))
    with django_assert_num_queries(1):
        tasks = DUE_TASKS.objects(before=now + timedelta(hours=2))
        assert [(task.pk, task.label, task.case.reference, task.case.owner.username) for task in tasks] == [
            (row.pk, row.label, row.case.reference, row.case.owner.username) for row in expected]
    assert tasks == [soon] and tasks[0].due_at == soon.due_at and not tasks[0]._state.adding
    # The time is a parameter: a later one finds the later task.
    assert len(DUE_TASKS.objects(before=now + timedelta(hours=6))) == 2


def test_objects_refuses_a_values_list_query(db):
    query = PreparedQuery(lambda *, reference: Case.objects.filter(reference=reference).values_list("pk"),
                          placeholders={"reference": "IRT-PLACEHOLDER-A"}, others={"reference": "IRT-PLACEHOLDER-B"})
    with pytest.raises(ImproperlyConfigured):
        query.objects(reference="IRT-2026-0001")


def test_an_optional_placeholder_may_be_left_out_and_any_other_may_not(db):
    def build(*, reference, owner_id):
        return Case.objects.filter(reference=reference).values_list("pk")

    optional = PreparedQuery(build, placeholders={"reference": "IRT-PLACEHOLDER-A", "owner_id": -1},
                             others={"reference": "IRT-PLACEHOLDER-B", "owner_id": -2}, optional=("owner_id",))
    assert optional.rows(reference="IRT-2026-0001", owner_id=7) == []
    strict = PreparedQuery(build, placeholders={"reference": "IRT-PLACEHOLDER-A", "owner_id": -1},
                           others={"reference": "IRT-PLACEHOLDER-B", "owner_id": -2}, optional=("reference",))
    with pytest.raises(ImproperlyConfigured):
        strict.rows(reference="IRT-2026-0001", owner_id=7)
