"""Races between people acting on the same case at the same moment (PostgreSQL only).

Each test runs real threads with their own database connections, so the row locks and the
version check are exercised as they are between two web workers.
"""

import re

import pytest
from django.db import connection

from cases.models.exceptions import ActionRefused, CaseChanged
from cases.models import Case, TimelineEvent
from cases.services import lifecycle
from cases.services import cases as case_services
from cases.services.timeline import add_note
from cases.selectors.timeline import first_broken_link
from tests.factories import case_in_stage
from tests.threads import race

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="SQLite serialises every writer on one database lock, so there is no race to test",
    ),
    # Threads need committed data; serialized_rollback restores the teams the migrations create.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

S = Case.Status


def test_two_people_acting_on_the_same_version_one_wins_and_the_other_is_told(manager, second_manager):
    case = case_in_stage(S.DIAGNOSING, manager=manager)
    version = Case.objects.get(pk=case.pk).version
    events_before = case.timeline.count()
    outcomes = race(
        lambda: lifecycle.stabilize(case=case, by=manager, note="Key revoked.", expected_version=version),
        lambda: lifecycle.stabilize(case=case, by=second_manager, note="Host isolated.", expected_version=version),
    )
    winners = [o for o in outcomes if isinstance(o, Case)]
    losers = [o for o in outcomes if isinstance(o, CaseChanged)]
    assert (len(winners), len(losers)) == (1, 1), outcomes
    fresh = Case.objects.get(pk=case.pk)
    assert (fresh.status, fresh.version) == (S.STABILIZING, version + 1)
    new = list(case.timeline.filter(sequence__gt=events_before))
    assert [e.kind for e in new] == [TimelineEvent.Kind.TRANSITION]
    assert losers[0].case.version == version + 1
    assert first_broken_link(fresh) == (None, events_before + 1)


def test_a_details_edit_and_a_transition_on_the_same_version_do_not_both_land(manager, second_manager):
    case = case_in_stage(S.DIAGNOSING, manager=manager)
    version = Case.objects.get(pk=case.pk).version
    outcomes = race(
        lambda: case_services.update_case_details(
            case=case, by=manager, changes={"severity": Case.Severity.CRITICAL}, expected_version=version
        ),
        lambda: lifecycle.stabilize(case=case, by=second_manager, note="Contained.", expected_version=version),
    )
    assert sum(isinstance(o, CaseChanged) for o in outcomes) == 1, outcomes
    fresh = Case.objects.get(pk=case.pk)
    assert fresh.version == version + 1
    edited = fresh.severity == Case.Severity.CRITICAL
    moved = fresh.status == S.STABILIZING
    assert edited != moved, "exactly one of the two changes is in the database"
    assert first_broken_link(fresh)[0] is None


def test_without_a_version_the_second_transition_sees_the_first_and_is_refused(manager, second_manager):
    case = case_in_stage(S.STABILIZING, manager=manager)
    outcomes = race(
        lambda: lifecycle.resume_diagnosis(case=case, by=manager, note="More to find."),
        lambda: lifecycle.resume_diagnosis(case=case, by=second_manager, note="Also more."),
    )
    assert sum(isinstance(o, Case) for o in outcomes) == 1, outcomes
    assert sum(isinstance(o, ActionRefused) for o in outcomes) == 1, outcomes
    fresh = Case.objects.get(pk=case.pk)
    kinds = list(fresh.timeline.order_by("sequence").values_list("kind", flat=True))
    assert kinds[-2:] == [TimelineEvent.Kind.TRANSITION, TimelineEvent.Kind.REFUSED]
    assert first_broken_link(fresh)[0] is None


def test_many_notes_written_at_once_keep_one_unbroken_chain(manager):
    case = case_in_stage(S.DIAGNOSING, manager=manager)
    before = case.timeline.count()
    outcomes = race(*[lambda n=n: add_note(case=case, by=manager, text=f"Finding {n}") for n in range(8)])
    assert all(isinstance(o, TimelineEvent) for o in outcomes), outcomes
    fresh = Case.objects.get(pk=case.pk)
    assert first_broken_link(fresh) == (None, before + 8)


def test_cases_opened_at_the_same_moment_get_distinct_references(responder):
    outcomes = race(
        *[lambda n=n: case_services.open_case(by=responder, title=f"Alert {n}", source=Case.Source.ALERT) for n in range(8)]
    )
    assert all(isinstance(o, Case) for o in outcomes), outcomes
    references = sorted(o.reference for o in outcomes)
    assert len(set(references)) == 8
    assert all(re.fullmatch(r"IRT-\d{4}-\d{4,}", r) for r in references)
    year = outcomes[0].detected_at.year
    assert references == [f"IRT-{year}-{n:04d}" for n in range(1, 9)]
