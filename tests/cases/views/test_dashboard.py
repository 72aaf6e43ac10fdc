"""The dashboard: what is on fire, most severe and oldest first, only ever what the viewer may know."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import Case, Task
from cases.services import communications
from cases.services.cases import add_member
from cases.services.intake import ingest_alert
from notifications.models import Delivery, Notification
from tests.cases.alerts.samples import alert_payload
from tests.factories import AffectedCustomerFactory, CaseFactory, DeadlineFactory, ReviewFactory, TaskFactory, case_in_stage

DASHBOARD = reverse("cases:dashboard")


def queue(client, user, name):
    client.force_login(user)
    response = client.get(DASHBOARD)
    assert response.status_code == 200
    return response.context[name]


def references(rows):
    return [case.reference for case in rows]


def aged(case, hours: float) -> Case:
    """Move the case's detection time ``hours`` into the past (age is what the queues sort by after severity)."""
    Case.objects.filter(pk=case.pk).update(detected_at=timezone.now() - timedelta(hours=hours))
    return case


def test_unowned_open_cases_wait_for_triage_most_severe_then_oldest(client, manager, responder):
    low_old = aged(CaseFactory(by=responder, severity="low"), 30)
    high_new = aged(CaseFactory(by=responder, severity="high"), 1)
    high_old = aged(CaseFactory(by=responder, severity="high"), 5)
    critical = aged(CaseFactory(by=responder, severity="critical"), 0.5)
    unassessed = aged(CaseFactory(by=responder), 40)
    CaseFactory(by=responder, severity="critical", owner=responder)  # owned: not waiting
    case_in_stage(Case.Status.DISMISSED, manager=manager)  # finished: never a queue row

    unowned = queue(client, manager, "unowned")

    assert references(unowned.rows) == references([critical, high_old, high_new, low_old, unassessed])
    assert unowned.total == 5


def test_alert_groups_waiting_for_triage_are_listed_most_severe_first(client, responder):
    ingest_alert(payload=alert_payload(title="Low thing", severity="low"), by=responder)
    ingest_alert(payload=alert_payload(title="Critical thing", severity="critical",
                                       observables=[{"kind": "ip", "value": "198.51.100.9"}]), by=responder)

    groups = queue(client, responder, "alert_groups")

    assert [group.title for group in groups.rows] == ["Critical thing", "Low thing"]


def test_my_cases_are_those_i_own_or_am_a_member_of(client, manager, responder, other_responder):
    owned = aged(CaseFactory(by=manager, owner=responder, severity="low"), 2)
    member = aged(CaseFactory(by=manager, severity="critical"), 1)
    add_member(case=member, by=manager, user=responder)
    CaseFactory(by=manager, owner=other_responder, severity="critical")  # neither

    mine = queue(client, responder, "my_cases")

    assert references(mine.rows) == references([member, owned])


def test_breaches_and_running_clocks_show_time_left_and_overdue_in_red(client, manager):
    late = case_in_stage(Case.Status.DIAGNOSING, manager=manager, title="Late notice")
    DeadlineFactory(case=late, started_at=timezone.now() - timedelta(hours=80), due_at=timezone.now() - timedelta(hours=8))
    running = case_in_stage(Case.Status.DIAGNOSING, manager=manager, title="Clock running", severity="critical")
    DeadlineFactory(case=running, due_at=timezone.now() + timedelta(hours=30))
    met = case_in_stage(Case.Status.DIAGNOSING, manager=manager, title="Met already")
    DeadlineFactory(case=met, met_at=timezone.now())

    client.force_login(manager)
    response = client.get(DASHBOARD)

    # Overdue first, whatever its severity; a case whose clocks are all met is not on fire.
    assert references(response.context["breaches"].rows) == [late.reference, running.reference]
    html = response.content.decode()
    assert '<span class="overdue">overdue by 8 h' in html
    assert "1 d 5 h left" in html or "1 d 6 h left" in html


def test_my_tasks_due_or_overdue_and_only_mine(client, manager, responder):
    case = CaseFactory(by=manager, owner=responder)
    overdue = TaskFactory(case=case, by=manager, assignee=responder, due_at=timezone.now() - timedelta(hours=2))
    soon = TaskFactory(case=case, by=manager, assignee=responder, due_at=timezone.now() + timedelta(hours=3))
    TaskFactory(case=case, by=manager, assignee=responder, due_at=timezone.now() + timedelta(days=5))  # not due yet
    TaskFactory(case=case, by=manager, assignee=manager, due_at=timezone.now() - timedelta(hours=2))  # not mine
    done = TaskFactory(case=case, by=manager, assignee=responder, due_at=timezone.now() - timedelta(hours=1))
    Task.objects.filter(pk=done.pk).update(done_at=timezone.now())

    tasks = queue(client, responder, "my_tasks")

    assert [task.pk for task in tasks.rows] == [overdue.pk, soon.pk]


def test_drafts_wait_for_those_who_may_approve_them_never_their_author(client, manager, responder, comms, other_responder):
    case = CaseFactory(by=responder, owner=responder, severity="high")
    communications.draft_update(case=case, by=responder, public_title="We are investigating", what_happened="Reads.")
    ReviewFactory(case=case, by=responder)

    for approver in (comms, manager):
        items = queue(client, approver, "approvals")
        assert [(item.what, item.case.reference) for item in items] == [
            ("Customer update", case.reference), ("Post-incident review", case.reference)]
    assert queue(client, responder, "approvals") == []  # the author, and a responder cannot approve
    assert queue(client, other_responder, "approvals") == []


def test_a_manager_never_waits_for_their_own_draft(client, manager, second_manager):
    case = CaseFactory(by=manager, owner=manager)
    communications.draft_update(case=case, by=manager, public_title="We are investigating", what_happened="Reads.")

    assert queue(client, manager, "approvals") == []
    assert [item.what for item in queue(client, second_manager, "approvals")] == ["Customer update"]


def _dead_delivery(case, address="soc@contoso.example"):
    notification = Notification.objects.create(kind=Notification.Kind.BREACH_NOTICE, case=case, title=f"Notice for {case.reference}")
    return Delivery.objects.create(notification=notification, channel=Delivery.Channel.EMAIL, status=Delivery.Status.DEAD,
                                   address=address, last_error="550 mailbox unavailable")


def test_dead_deliveries_are_shown_to_managers_of_cases_they_may_know(client, manager, responder, second_manager):
    visible = CaseFactory(by=manager, owner=manager)
    restricted = CaseFactory(by=manager, owner=manager, restricted=True)
    _dead_delivery(visible)
    _dead_delivery(restricted, address="secret@fabrikam.example")

    client.force_login(second_manager)
    response = client.get(DASHBOARD)
    dead = response.context["dead_deliveries"]
    assert [row["case"] for row in dead] == [visible.reference]
    assert "550 mailbox unavailable" in response.content.decode()
    assert "secret@fabrikam.example" not in response.content.decode()
    assert queue(client, manager, "dead_deliveries")[0]["recipient"] in {"soc@contoso.example", "secret@fabrikam.example"}
    # Responders may not open the delivery pages, so the dashboard does not list deliveries for them.
    add_member(case=visible, by=manager, user=responder)
    assert queue(client, responder, "dead_deliveries") == []


def test_a_nonmember_responder_sees_nothing_of_a_restricted_case(client, manager, other_responder):
    secret = CaseFactory(by=manager, severity="critical", restricted=True, title="Insider at the data centre")
    DeadlineFactory(case=secret, due_at=timezone.now() - timedelta(hours=1))

    client.force_login(other_responder)
    response = client.get(DASHBOARD)

    for name in ("unowned", "breaches", "my_cases"):
        assert secret not in response.context[name].rows
    assert "Insider at the data centre" not in response.content.decode()
    assert secret.reference not in response.content.decode()


def test_closed_and_dismissed_are_counts_out_of_the_way(client, manager):
    case_in_stage(Case.Status.CLOSED, manager=manager)
    case_in_stage(Case.Status.DISMISSED, manager=manager)
    detected = CaseFactory(by=manager)

    client.force_login(manager)
    response = client.get(DASHBOARD)

    assert response.context["finished_stages"] == [("closed", "Closed", 1), ("dismissed", "Dismissed", 1)]
    assert ("detected", "Detected", 1) in response.context["open_stages"]
    assert references(response.context["unowned"].rows) == [detected.reference]


def _fill_every_queue(size, *, manager, responder, comms):
    """Give every queue ``size`` rows (or more) that the manager sees."""
    now = timezone.now()
    for i in range(size):
        case = CaseFactory(by=responder, owner=None if i % 2 else responder, severity=["critical", "high", "low"][i % 3])
        add_member(case=case, by=responder, user=manager)
        DeadlineFactory(case=case, due_at=now + timedelta(hours=i - size // 2))
        AffectedCustomerFactory(case=case, by=responder)  # late for the cases whose clock ran out
        TaskFactory(case=case, by=responder, assignee=manager, due_at=now - timedelta(minutes=i))
        communications.draft_update(case=case, by=responder, public_title=f"Update {i}", what_happened="Reads.")
        ReviewFactory(case=case, by=responder)
        _dead_delivery(case)
        ingest_alert(payload=alert_payload(title=f"Alert {i}", observables=[{"kind": "ip", "value": f"198.51.100.{i}"}]), by=responder)


DASHBOARD_QUERIES = 17  # as in test_query_counts: every queue its rows with its total in one query, whatever their size, and the next moment time alone changes them (two)


@pytest.mark.parametrize("size", [2, 30])
def test_dashboard_runs_a_fixed_number_of_queries_with_every_queue_full(
    client, manager, responder, comms, size, django_assert_num_queries
):
    _fill_every_queue(size, manager=manager, responder=responder, comms=comms)
    client.force_login(manager)
    with django_assert_num_queries(DASHBOARD_QUERIES):
        response = client.get(DASHBOARD)
    context = response.context
    assert context["my_cases"].total == size and context["my_tasks"].total == size
    assert len(context["approvals"]) == 2 * min(size, 20) and len(context["dead_deliveries"]) == min(size, 20)
    assert context["alert_groups"].total >= 1 and context["breaches"].total == size
    # Clocks due from size // 2 hours ago up to now have run out by the time the page is read.
    assert context["late_notices"].total == size // 2 + 1 and len(context["late_notices"].rows) == min(size // 2 + 1, 20)


def test_organisations_whose_breach_notice_is_late_come_first_and_leave_once_reached(client, manager, comms):
    case = case_in_stage(Case.Status.DIAGNOSING, manager=manager, title="Bucket read by a stranger")
    late = AffectedCustomerFactory(case=case, by=manager)
    on_time_case = case_in_stage(Case.Status.DIAGNOSING, manager=manager)
    AffectedCustomerFactory(case=on_time_case, by=manager)
    DeadlineFactory(case=case, due_at=timezone.now() - timedelta(hours=2))
    DeadlineFactory(case=on_time_case, due_at=timezone.now() + timedelta(hours=2))

    client.force_login(manager)
    response = client.get(DASHBOARD)
    assert [row.pk for row in response.context["late_notices"].rows] == [late.pk]
    html = response.content.decode()
    assert "Late breach notices (1)" in html and late.organization.name in html and "overdue by 2 h" in html

    late.notified_at = timezone.now()
    late.save()
    assert client.get(DASHBOARD).context["late_notices"].total == 0


def test_a_late_notice_of_a_restricted_case_stays_with_those_who_may_know_it(client, manager, comms, other_responder):
    secret = CaseFactory(by=manager, restricted=True, title="Insider at the data centre")
    add_member(case=secret, by=manager, user=comms)
    AffectedCustomerFactory(case=secret, by=manager, confirmed_by=comms)
    DeadlineFactory(case=secret, due_at=timezone.now() - timedelta(hours=1))
    client.force_login(other_responder)
    assert client.get(DASHBOARD).context["late_notices"].total == 0
    client.force_login(manager)
    assert client.get(DASHBOARD).context["late_notices"].total == 1
