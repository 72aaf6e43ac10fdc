"""The dashboard's queues, compiled once per process and role (issue 18): the same rows as the ORM's, for every viewer.

Each queue's query is built by the access functions with a stand-in user of the viewer's role and
run with the viewer's id and the time of the request; the total rides on the rows as a window count.
"""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from cases.access.querysets import owned_or_member_q, staff_role, visible_cases
from cases.models import Case, Deadline, OutOfBandNotice, Task
from cases.selectors import dashboard as selectors
from cases.selectors.alerts import triage_queue
from cases.services import communications
from cases.services.cases import add_member
from cases.services.intake import ingest_alert
from cases.views import dashboard as dashboard_view
from tests.cases.alerts.samples import alert_payload
from tests.factories import AffectedCustomerFactory, CaseFactory, DeadlineFactory, ReviewFactory, TaskFactory, case_in_stage

DASHBOARD = reverse("cases:dashboard")
QUEUES = ("unowned", "alert_groups", "breaches", "late_notices", "my_tasks", "my_cases")


def _orm_queues(user, now) -> dict:
    """Return each queue as the ORM reads it for the real user: ``(pks in order, total)``."""
    times = {"breaches": {"now": now}, "late_notices": {"now": now}, "my_tasks": {"due_before": now + selectors.TASK_DUE_WITHIN}}
    answers = {}
    for name in QUEUES:
        rows = list(selectors._QUERIES[name][0](user, **times.get(name, {})))
        answers[name] = ([row.pk for row in rows], rows[0].queue_total if rows else 0)
    return answers


def _plain_counts(user, now) -> dict:
    """Return each queue's total as a plain ``COUNT`` of the whole queue, as the dashboard read it before issue 18."""
    visible = visible_cases(user)
    open_cases = visible.open()
    running = Deadline.objects.filter(met_at__isnull=True, case=OuterRef("pk"))
    return {
        "unowned": open_cases.filter(owner__isnull=True).count(),
        "alert_groups": triage_queue(user).count(),
        "breaches": open_cases.filter(Q(breach_declared_at__isnull=False) | Exists(running)).count(),
        "late_notices": selectors.late_notices(visible, now).count(),
        "my_tasks": Task.objects.open().filter(assignee=user, due_at__lte=now + selectors.TASK_DUE_WITHIN, case__in=open_cases).count(),
        "my_cases": open_cases.filter(owned_or_member_q(user)).count(),
    }


def _prepared_queues(user, now) -> dict:
    context = selectors.dashboard(user, now=now)
    return {name: ([row.pk for row in context[name].rows], context[name].total) for name in QUEUES}


@pytest.fixture
def mixed_cases(manager, responder, other_responder, comms, second_manager):
    """Cases of every kind a queue must keep apart: restricted, another's, finished, late, met, drafted."""
    now = timezone.now()
    open_unowned = CaseFactory(by=manager, severity="high")
    secret = CaseFactory(by=manager, severity="critical", restricted=True, title="Insider at the data centre")
    add_member(case=secret, by=manager, user=comms)
    secret_unowned = CaseFactory(by=responder, restricted=True)  # its opener is a member
    theirs = CaseFactory(by=manager, owner=second_manager, severity="low")
    mine = CaseFactory(by=manager, owner=responder)
    finished = case_in_stage(Case.Status.DISMISSED, manager=manager)
    for case, hours in ((secret, -1), (theirs, -3), (mine, 5), (open_unowned, -2)):
        DeadlineFactory(case=case, due_at=now + timedelta(hours=hours))
        AffectedCustomerFactory(case=case, by=manager, confirmed_by=comms)
    DeadlineFactory(case=finished, due_at=now - timedelta(hours=4))
    DeadlineFactory(case=mine, kind=Deadline.Kind.GDPR_ART33, met_at=now, due_at=now - timedelta(hours=9))
    for case, assignee in ((secret, responder), (mine, responder), (theirs, other_responder), (secret, comms)):
        TaskFactory(case=case, by=manager, assignee=assignee, due_at=now + timedelta(hours=1))
    for case, author in ((secret, manager), (theirs, second_manager), (mine, responder)):
        communications.draft_update(case=case, by=author, public_title=f"Update on {case.reference}", what_happened="Reads.")
        ReviewFactory(case=case, by=author)
    ingest_alert(payload=alert_payload(title="Waiting group"), by=responder)
    return {"secret": secret, "secret_unowned": secret_unowned, "open_unowned": open_unowned, "theirs": theirs, "mine": mine}


def test_every_queue_reads_as_the_orm_reads_it_for_every_role(mixed_cases, personas):
    now = timezone.now()
    for name, user in personas.items():
        if name == "customer":
            continue
        prepared = _prepared_queues(user, now)
        assert prepared == _orm_queues(user, now), name
        assert {queue: total for queue, (_, total) in prepared.items()} == _plain_counts(user, now), name
        drafts = {kind: [row.pk for row in selectors._QUERIES[kind][0](user)] for kind in ("updates", "reviews", "public_reviews", "notices")}
        role = staff_role(user)
        assert {kind: [row.pk for row in selectors._query(kind, role).objects(user_id=user.pk)] for kind in drafts} == drafts, name


def test_a_restricted_case_shows_only_to_its_members_and_those_who_read_all(mixed_cases, responder, other_responder, comms, manager):
    secret, now = mixed_cases["secret"], timezone.now()
    for user in (responder, other_responder):
        queues = selectors.dashboard(user, now=now)
        for name in ("unowned", "breaches", "my_cases"):
            assert secret.pk not in [case.pk for case in queues[name].rows], (user.username, name)
        for name in ("late_notices", "my_tasks"):
            assert secret.pk not in [row.case_id for row in queues[name].rows], (user.username, name)
        assert [item for item in queues["approvals"] if item.case == secret] == []
    # comms is a member: the overdue secret case and its late notice are theirs to see, and its tasks assigned to them.
    queues = selectors.dashboard(comms, now=now)
    assert secret.pk in [row.pk for row in queues["breaches"].rows]
    assert secret.pk in [row.case_id for row in queues["late_notices"].rows]
    assert [task.case_id for task in queues["my_tasks"].rows] == [secret.pk]
    assert ("Customer update", secret.reference) in [(item.what, item.case.reference) for item in queues["approvals"]]
    # A manager reads every case but a restricted one they are no member of; the responder opened that one.
    secret_unowned = mixed_cases["secret_unowned"].pk
    assert secret_unowned not in [row.pk for row in selectors.dashboard(manager, now=now)["unowned"].rows]
    assert secret_unowned in [row.pk for row in selectors.dashboard(responder, now=now)["unowned"].rows]
    assert secret_unowned not in [row.pk for row in selectors.dashboard(other_responder, now=now)["unowned"].rows]


def test_two_viewers_of_one_role_share_the_compiled_query_but_each_reads_their_own_rows(mixed_cases, responder, other_responder):
    now = timezone.now()
    assert staff_role(responder) == staff_role(other_responder)
    assert {row.pk for row in selectors.dashboard(responder, now=now)["my_cases"].rows} == {
        mixed_cases["mine"].pk, mixed_cases["secret_unowned"].pk}
    assert selectors.dashboard(other_responder, now=now)["my_cases"].rows == []
    # Each is assigned a task on a case they may not see (the secret one, another's): neither is listed.
    assert [task.case_id for task in selectors.dashboard(responder, now=now)["my_tasks"].rows] == [mixed_cases["mine"].pk]
    assert selectors.dashboard(other_responder, now=now)["my_tasks"].rows == []


def test_the_time_of_the_request_decides_which_notice_is_late_and_which_clock_is_overdue(mixed_cases, manager):
    now = timezone.now()
    mine = mixed_cases["mine"]  # its notice clock is due in 5 hours
    assert mine.pk not in [row.case_id for row in selectors.dashboard(manager, now=now)["late_notices"].rows]
    later = selectors.dashboard(manager, now=now + timedelta(hours=6))
    assert mine.pk in [row.case_id for row in later["late_notices"].rows]
    assert [row.overdue for row in later["breaches"].rows if row.pk == mine.pk] == [0]
    assert [row.overdue for row in selectors.dashboard(manager, now=now)["breaches"].rows if row.pk == mine.pk] == [1]


def test_a_change_shows_on_the_very_next_request(client, mixed_cases, other_responder, manager):
    theirs = mixed_cases["theirs"]
    client.force_login(other_responder)
    assert client.get(DASHBOARD).context["my_cases"].rows == []
    add_member(case=theirs, by=manager, user=other_responder)
    assert [case.pk for case in client.get(DASHBOARD).context["my_cases"].rows] == [theirs.pk]
    Case.objects.filter(pk=theirs.pk).update(status=Case.Status.DISMISSED)  # a bulk update: no signal
    with time_machine.travel(timezone.now() + dashboard_view.KEPT_AT_MOST, tick=False):  # the kept copy's bound
        assert client.get(DASHBOARD).context["my_cases"].rows == []


def test_a_queue_longer_than_the_page_counts_every_row_not_only_those_shown(client, manager, responder):
    for _ in range(selectors.LIMIT + 5):
        CaseFactory(by=responder)
    client.force_login(manager)
    unowned = client.get(DASHBOARD).context["unowned"]
    assert (len(unowned.rows), unowned.total, unowned.more) == (selectors.LIMIT, selectors.LIMIT + 5, 5)


def test_an_empty_queue_counts_zero(client, other_responder):
    client.force_login(other_responder)
    context = client.get(DASHBOARD).context
    assert all((context[name].rows, context[name].total) == ([], 0) for name in QUEUES)


def test_rows_carry_what_the_page_shows_without_another_query(mixed_cases, manager, django_assert_num_queries):
    queues = selectors.dashboard(manager, now=timezone.now() + timedelta(hours=6))
    with django_assert_num_queries(0):
        assert {row.owner for row in queues["breaches"].rows if row.owner_id} >= {mixed_cases["theirs"].owner}
        assert all(row.running_clocks is not None for row in queues["breaches"].rows)
        assert {row.organization.name for row in queues["late_notices"].rows}
        assert all(item.case.reference and item.by.pk for item in queues["approvals"])


def test_an_out_of_band_notice_waits_for_an_approver_who_did_not_record_it(mixed_cases, manager, comms, second_manager):
    row = mixed_cases["theirs"].affected_customers.get()
    OutOfBandNotice.objects.create(row=row, channel=OutOfBandNotice.Channel.PHONE, person_reached="The CISO",
                                   reached_at=timezone.now(), recorded_by=manager)
    assert "Out-of-band notice" in [item.what for item in selectors.dashboard(comms)["approvals"]]
    assert "Out-of-band notice" not in [item.what for item in selectors.dashboard(manager)["approvals"]]


RESPONDER_QUERIES = 12  # the request's own (the session joined with the user, their permissions and devices), stage counts, six queues with their totals, running clocks, the next moment time alone changes them (two); no approvals


@pytest.mark.parametrize("size", [2, 25])
def test_a_responders_dashboard_runs_a_fixed_number_of_queries(client, manager, responder, size, django_assert_num_queries):
    now = timezone.now()
    for i in range(size):
        case = CaseFactory(by=manager, owner=responder if i % 2 else None)
        DeadlineFactory(case=case, due_at=now + timedelta(hours=i - size // 2))
        TaskFactory(case=case, by=manager, assignee=responder, due_at=now)
    client.force_login(responder)
    with django_assert_num_queries(RESPONDER_QUERIES):
        context = client.get(DASHBOARD).context
    # The responder owns every other case, and sees no other: those are their clocks and their tasks.
    assert context["breaches"].total == size // 2 and context["my_tasks"].total == size // 2
    assert Task.objects.filter(assignee=responder).count() == size



def test_each_query_is_compiled_once_per_role_and_then_only_run(mixed_cases, responder, other_responder, monkeypatch):
    from cases.access.prepared import PreparedQuery

    compiled = []
    compile_ = PreparedQuery._compile
    monkeypatch.setattr(PreparedQuery, "_compile", lambda self, *args: compiled.append(self) or compile_(self, *args))
    monkeypatch.setattr(selectors, "_prepared", {})
    monkeypatch.setattr(selectors._RUNNING_CLOCKS, "_local", threading.local())
    selectors.dashboard(responder)
    assert len(compiled) == 2 * 8  # six queues, the stage counts and the running clocks, each with both placeholder sets
    compiled.clear()
    selectors.dashboard(other_responder)  # the same role: nothing is compiled again
    selectors.dashboard(responder, now=timezone.now() + timedelta(days=1))
    assert compiled == []


def test_each_breach_lists_its_own_running_clocks_soonest_first(mixed_cases, manager):
    now = timezone.now()
    theirs = mixed_cases["theirs"]
    DeadlineFactory(case=theirs, kind=Deadline.Kind.NIS2_EARLY_WARNING, due_at=now - timedelta(hours=6))
    DeadlineFactory(case=theirs, kind=Deadline.Kind.GDPR_ART33, due_at=now + timedelta(hours=1), met_at=now)
    rows = selectors.dashboard(manager, now=now)["breaches"].rows
    assert len(rows) < selectors.LIMIT  # a short page: the unused parameters repeat a case
    for case in rows:
        expected = list(case.deadlines.filter(met_at__isnull=True).order_by("due_at", "pk"))
        assert case.running_clocks == expected, case.reference
    assert [clock.kind for clock in next(case for case in rows if case == theirs).running_clocks] == [
        Deadline.Kind.NIS2_EARLY_WARNING, Deadline.Kind.CUSTOMER_NOTICE]
