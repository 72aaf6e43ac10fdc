"""The append-only, hash-chained timeline: one event per change, refusals recorded, tampering found."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from cases.models.exceptions import ActionRefused, NotAllowed
from cases.models import Case, Deadline, TimelineEvent
from cases.models.timeline import genesis_hash
from cases.services import breach, lifecycle, notices, review, tasks
from cases.services import cases as case_services
from cases.services.timeline import add_note
from cases.selectors.timeline import first_broken_link
from tests.factories import AffectedCustomerFactory, ServiceFactory, StaffFactory, TaskFactory, case_in_stage

S = Case.Status
K = TimelineEvent.Kind

on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="the append-only trigger exists on PostgreSQL only")


def new_events(case: Case, since: int) -> list[TimelineEvent]:
    return list(TimelineEvent.objects.filter(case=case, sequence__gt=since).order_by("sequence"))


def last_sequence(case: Case) -> int:
    return TimelineEvent.objects.filter(case=case).count()


# -- one event per successful action ---------------------------------------------------------------


def _details(case, manager, **_):
    case_services.update_case_details(case=case, by=manager, changes={"severity": Case.Severity.LOW})


def _owner(case, manager, responder, **_):
    case_services.assign_owner(case=case, by=manager, owner=responder)


def _member(case, manager, newcomer, **_):
    case_services.add_member(case=case, by=manager, user=newcomer)


def _remove_member(case, manager, newcomer, **_):
    case_services.remove_member(case=case, by=manager, user=newcomer)


def _task(case, manager, **_):
    tasks.add_task(case=case, by=manager, title="Rotate keys", mandatory=True)


def _task_done(case, manager, task, **_):
    tasks.complete_task(task=task, by=manager)


def _task_reopened(case, manager, task, **_):
    tasks.complete_task(task=task, by=manager)
    return lambda: tasks.reopen_task(task=task, by=manager)


def _customer(case, manager, contoso, **_):
    AffectedCustomerFactory(case=case, by=manager, organization=contoso, confirm=False)


def _confirm_customer(case, manager, second_manager, fabrikam, **_):
    row = AffectedCustomerFactory(case=case, by=manager, organization=fabrikam, confirm=False)
    return lambda: breach.confirm_affected_customer(row=row, by=second_manager)


def _withdraw_customer(case, manager, fabrikam, **_):
    row = AffectedCustomerFactory(case=case, by=manager, organization=fabrikam)
    return lambda: breach.withdraw_affected_customer(row=row, by=manager, reason="Not theirs.")


def _declare(case, manager, contoso, **_):
    AffectedCustomerFactory(case=case, by=manager, organization=contoso)
    return lambda: breach.declare_breach(case=case, by=manager, note="Confirmed.")


def _delay_requested(case, manager, contoso, **_):
    AffectedCustomerFactory(case=case, by=manager, organization=contoso)
    breach.declare_breach(case=case, by=manager, note="Confirmed.")
    deadline = Deadline.objects.get(case=case)
    return lambda: breach.request_deadline_delay(
        deadline=deadline, by=manager, new_due_at=deadline.due_at + timedelta(hours=2), reason="Hold."
    )


def _delay_approved(case, manager, second_manager, contoso, **_):
    AffectedCustomerFactory(case=case, by=manager, organization=contoso)
    breach.declare_breach(case=case, by=manager, note="Confirmed.")
    deadline = Deadline.objects.get(case=case)
    delay = breach.request_deadline_delay(
        deadline=deadline, by=manager, new_due_at=deadline.due_at + timedelta(hours=2), reason="Hold."
    )
    return lambda: breach.approve_deadline_delay(delay=delay, by=second_manager)


def _review_saved(case, responder, **_):
    review.save_review(case=case, by=responder, what_happened="x", what_went_wrong="y")


def _review_approved(case, manager, responder, **_):
    review.save_review(case=case, by=responder, what_happened="x", what_went_wrong="y")
    return lambda: review.approve_review(case=case, by=manager)


def _note(case, manager, **_):
    add_note(case=case, by=manager, text="Called the customer.")


def _transition(case, manager, **_):
    lifecycle.stabilize(case=case, by=manager, note="Contained.")


def _lazy(step):
    """Wrap a one-step action so setup and action are the same call."""
    def setup(**kwargs):
        return lambda: step(**kwargs)
    return setup


ACTIONS = {
    K.DETAILS_CHANGED: _lazy(_details),
    K.OWNER_CHANGED: _lazy(_owner),
    K.MEMBER_ADDED: _lazy(_member),
    K.MEMBER_REMOVED: lambda **kw: (_member(**kw), lambda: _remove_member(**kw))[1],
    K.TASK_ADDED: _lazy(_task),
    K.TASK_DONE: _lazy(_task_done),
    K.TASK_REOPENED: _task_reopened,
    K.CUSTOMER_ADDED: _lazy(_customer),
    K.CUSTOMER_CONFIRMED: _confirm_customer,
    K.CUSTOMER_WITHDRAWN: _withdraw_customer,
    K.BREACH_DECLARED: _declare,
    K.DEADLINE_DELAY_REQUESTED: _delay_requested,
    K.DEADLINE_DELAY_APPROVED: _delay_approved,
    K.REVIEW_SAVED: _lazy(_review_saved),
    K.REVIEW_APPROVED: _review_approved,
    K.NOTE: _lazy(_note),
    K.TRANSITION: _lazy(_transition),
}


@pytest.mark.parametrize("kind", ACTIONS)
def test_every_successful_action_writes_exactly_one_event_of_its_kind(
    kind, manager, second_manager, responder, contoso, fabrikam
):
    case = case_in_stage(S.DIAGNOSING, manager=manager)
    case_services.add_member(case=case, by=manager, user=responder)
    task = TaskFactory(case=case, by=manager)
    act = ACTIONS[kind](
        case=case, manager=manager, second_manager=second_manager, responder=responder, newcomer=StaffFactory(),
        contoso=contoso, fabrikam=fabrikam, task=task,
    )
    since = last_sequence(case)
    act()
    events = new_events(case, since)
    assert [e.kind for e in events] == [kind]
    assert events[0].actor is not None
    assert events[0].actor_name == events[0].actor.username
    assert first_broken_link(Case.objects.get(pk=case.pk)) == (None, since + 1)


def test_opening_a_case_writes_the_first_event_on_the_genesis_hash(responder):
    case = case_services.open_case(by=responder, title="Odd login", source=Case.Source.RESEARCHER)
    (event,) = case.timeline.all()
    assert event.kind == K.OPENED
    assert event.sequence == 1
    assert event.previous_hash == genesis_hash(case.reference)
    assert event.hash == event.compute_hash()
    assert Case.objects.get(pk=case.pk).timeline_head == event.hash


def test_each_event_links_to_the_one_before_it(manager):
    case = case_in_stage(S.CLOSED, manager=manager)
    events = list(case.timeline.order_by("sequence"))
    assert [e.sequence for e in events] == list(range(1, len(events) + 1))
    for previous, event in zip(events, events[1:]):
        assert event.previous_hash == previous.hash
    assert Case.objects.get(pk=case.pk).timeline_head == events[-1].hash
    assert len({e.hash for e in events}) == len(events)


def test_a_status_change_and_its_event_commit_together(manager, monkeypatch):
    case = case_in_stage(S.DIAGNOSING, manager=manager)
    before = Case.objects.get(pk=case.pk)
    count = case.timeline.count()

    def broken_append(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(lifecycle, "append_event", broken_append)
    with pytest.raises(RuntimeError):
        lifecycle.stabilize(case=case, by=manager, note="Contained.")
    after = Case.objects.get(pk=case.pk)
    assert (after.status, after.version, after.contained_at) == (before.status, before.version, before.contained_at)
    assert case.timeline.count() == count


def test_a_breach_declaration_and_its_deadline_roll_back_when_the_event_fails(manager, contoso, monkeypatch):
    case = case_in_stage(S.DIAGNOSING, manager=manager)
    AffectedCustomerFactory(case=case, by=manager, organization=contoso)

    def broken_append(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(breach, "append_event", broken_append)
    with pytest.raises(RuntimeError):
        breach.declare_breach(case=case, by=manager, note="Confirmed.")
    assert Case.objects.get(pk=case.pk).breach_declared_at is None
    assert not Deadline.objects.filter(case=case).exists()


# -- refusals ------------------------------------------------------------------------------------


def test_a_refused_transition_is_recorded_with_its_reasons(manager):
    case = case_in_stage(S.ASSESSING, manager=manager)
    with pytest.raises(ActionRefused):
        lifecycle.start_diagnosis(case=case, by=manager)
    event = case.timeline.order_by("-sequence").first()
    assert event.kind == K.REFUSED
    assert event.actor == manager
    assert event.data["action"] == "Start diagnosis"
    assert "Set a severity." in event.data["reasons"]
    assert event.text.startswith("Refused: Start diagnosis.")
    assert first_broken_link(Case.objects.get(pk=case.pk))[0] is None


def test_a_refusal_by_someone_who_cannot_see_the_case_leaves_no_trace(manager, other_responder):
    case = case_in_stage(S.DIAGNOSING, manager=manager, restricted=True)
    count = case.timeline.count()
    with pytest.raises(NotAllowed):
        lifecycle.stabilize(case=case, by=other_responder, note="x")
    assert case.timeline.count() == count


def test_a_refusal_by_a_reader_is_recorded(manager, comms):
    case = case_in_stage(S.DIAGNOSING, manager=manager)
    with pytest.raises(NotAllowed):
        lifecycle.stabilize(case=case, by=comms, note="x")
    event = case.timeline.order_by("-sequence").first()
    assert (event.kind, event.actor) == (K.REFUSED, comms)


# -- verification and tampering -------------------------------------------------------------------


def test_verify_timeline_reports_every_chain_intact(manager, responder):
    case_in_stage(S.CLOSED, manager=manager)
    case_in_stage(S.DISMISSED, manager=manager)
    total = TimelineEvent.objects.count()
    out = StringIO()
    call_command("verify_timeline", stdout=out)
    assert f"2 timelines, {total} events: every link holds." in out.getvalue()


def test_verify_timeline_checks_only_the_references_given(manager):
    first = case_in_stage(S.DETECTED, manager=manager)
    case_in_stage(S.DETECTED, manager=manager)
    out = StringIO()
    call_command("verify_timeline", first.reference, stdout=out)
    assert "1 timelines, 1 events" in out.getvalue()


@pytest.mark.usefixtures("tamperable")
def test_an_altered_event_text_breaks_the_chain(manager):
    case = case_in_stage(S.STABILIZING, manager=manager)
    TimelineEvent.objects.filter(case=case, sequence=2).update(text="Nothing to see here.")
    broken, _ = first_broken_link(case)
    assert broken == "event #2 was altered (its content no longer matches its hash)."
    with pytest.raises(CommandError, match=f"{case.reference}: event #2 was altered"):
        call_command("verify_timeline")


@pytest.mark.usefixtures("tamperable")
def test_an_altered_actor_breaks_the_chain(manager, second_manager):
    case = case_in_stage(S.DIAGNOSING, manager=manager)
    TimelineEvent.objects.filter(case=case, sequence=3).update(actor=second_manager, actor_name=second_manager.username)
    assert first_broken_link(case)[0] == "event #3 was altered (its content no longer matches its hash)."


@pytest.mark.usefixtures("tamperable")
def test_a_rehashed_forgery_is_caught_by_the_next_link(manager):
    case = case_in_stage(S.STABILIZING, manager=manager)
    event = TimelineEvent.objects.get(case=case, sequence=2)
    event.text = "Forged."
    forged_hash = event.compute_hash()
    TimelineEvent.objects.filter(pk=event.pk).update(text="Forged.", hash=forged_hash)
    assert first_broken_link(case)[0] == "event #3 does not follow event #2 (previous hash differs)."


@pytest.mark.usefixtures("tamperable")
def test_a_deleted_event_in_the_middle_is_found(manager):
    case = case_in_stage(S.STABILIZING, manager=manager)
    TimelineEvent.objects.filter(case=case, sequence=2).delete()
    assert first_broken_link(case)[0] == "event #2 is missing (next stored event is #3)."
    with pytest.raises(CommandError, match="event #2 is missing"):
        call_command("verify_timeline", case.reference)


@pytest.mark.usefixtures("tamperable")
def test_deleting_the_newest_event_is_found_through_the_timeline_head(manager):
    case = case_in_stage(S.STABILIZING, manager=manager)
    newest = case.timeline.order_by("-sequence").first()
    TimelineEvent.objects.filter(pk=newest.pk).delete()
    case = Case.objects.get(pk=case.pk)
    assert case.timeline_head == newest.hash
    assert first_broken_link(case)[0] == (
        "the newest events are missing (the case records a later head than the chain ends with)."
    )
    with pytest.raises(CommandError, match="newest events are missing"):
        call_command("verify_timeline")


@pytest.mark.usefixtures("tamperable")
def test_deleting_every_event_is_found_through_the_timeline_head(manager):
    case = case_in_stage(S.DETECTED, manager=manager)
    TimelineEvent.objects.filter(case=case).delete()
    assert first_broken_link(Case.objects.get(pk=case.pk))[0] is not None


@on_postgresql
@pytest.mark.parametrize("tamper", ["update", "delete"])
def test_postgresql_refuses_to_change_or_delete_a_timeline_row(tamper, manager):
    case = case_in_stage(S.STABILIZING, manager=manager)
    rows = TimelineEvent.objects.filter(case=case, sequence=2)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        rows.update(text="Nothing to see here.") if tamper == "update" else rows.delete()
    assert first_broken_link(Case.objects.get(pk=case.pk))[0] is None
    call_command("verify_timeline")


@on_postgresql
def test_postgresql_refuses_to_delete_the_newest_event(manager):
    case = case_in_stage(S.DETECTED, manager=manager)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        TimelineEvent.objects.filter(case=case).order_by("-sequence")[:1].get().delete()
    assert case.timeline.count() == 1


def test_an_event_written_by_the_system_has_no_actor_and_still_verifies(manager, contoso):
    case = case_in_stage(S.DIAGNOSING, manager=manager)
    row = AffectedCustomerFactory(case=case, by=manager, organization=contoso)
    breach.declare_breach(case=case, by=manager, note="Confirmed.")
    notices.record_customer_notified(row=row, how="email")
    newest = case.timeline.order_by("-sequence").first()
    assert (newest.kind, newest.actor, newest.actor_name) == (K.DEADLINE_MET, None, "")
    assert first_broken_link(Case.objects.get(pk=case.pk))[0] is None


def test_renaming_a_user_does_not_break_the_chain(manager):
    case = case_in_stage(S.DIAGNOSING, manager=manager)
    manager.username = "renamed-manager"
    manager.save()
    assert first_broken_link(Case.objects.get(pk=case.pk))[0] is None


def test_data_with_dates_and_services_hashes_the_same_after_a_round_trip(manager):
    case = case_in_stage(S.ASSESSING, manager=manager)
    case_services.update_case_details(
        case=case, by=manager, changes={"severity": Case.Severity.CRITICAL},
        services=[ServiceFactory(name="Identity"), ServiceFactory(name="Compute")],
    )
    stored = TimelineEvent.objects.get(case=case, kind=K.DETAILS_CHANGED)
    assert stored.data["affected_services"]["to"] == ["Compute", "Identity"]
    assert stored.compute_hash() == stored.hash


def test_a_new_member_can_write_to_the_timeline_of_a_case_they_joined(manager):
    case = case_in_stage(S.DIAGNOSING, manager=manager)
    newcomer = StaffFactory()
    case_services.add_member(case=case, by=manager, user=newcomer)
    event = add_note(case=case, by=newcomer, text="Looking at the proxy logs.")
    assert event.actor == newcomer
    with pytest.raises(ActionRefused):
        add_note(case=case, by=newcomer, text="   ")


def test_a_refusal_is_not_recorded_for_someone_who_lost_sight_of_the_case_after_loading_it(manager, comms):
    case = case_in_stage(S.DIAGNOSING, manager=manager)
    loaded_by_comms = Case.objects.get(pk=case.pk)
    case_services.update_case_details(case=case, by=manager, changes={"restricted": True})
    count = case.timeline.count()
    with pytest.raises(NotAllowed):
        lifecycle.stabilize(case=loaded_by_comms, by=comms, note="x")
    assert case.timeline.count() == count
