"""Declaring a breach, the customer-notice deadline it starts, delays and notifications."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction

from cases.models import hooks
from cases.models.exceptions import ActionRefused, NotAllowed
from cases.models import AffectedCustomer, Case, Deadline, DeadlineDelay, TimelineEvent
from cases.services import breach, notices
from cases.services import cases as case_services
from notifications.guards import unnotified_customer_blockers
from tests.factories import AffectedCustomerFactory, case_in_stage

S = Case.Status
K = TimelineEvent.Kind


def kinds(case: Case) -> list[str]:
    return list(TimelineEvent.objects.filter(case=case).order_by("sequence").values_list("kind", flat=True))


@pytest.fixture
def diagnosing(manager):
    return case_in_stage(S.DIAGNOSING, manager=manager)


@pytest.fixture
def breached(diagnosing, manager, contoso, fabrikam):
    """A declared breach affecting Contoso and Fabrikam, notices not yet sent."""
    AffectedCustomerFactory(case=diagnosing, by=manager, organization=contoso, data_disclosed=True)
    AffectedCustomerFactory(case=diagnosing, by=manager, organization=fabrikam, data_altered=True, data_disclosed=False)
    return breach.declare_breach(case=diagnosing, by=manager, note="Objects were read across accounts.")


def notice(case: Case) -> Deadline:
    return Deadline.objects.get(case=case, kind=Deadline.Kind.CUSTOMER_NOTICE)


def assert_refused_unchanged(case: Case, refuse, exc=ActionRefused, match=None):
    before = Case.objects.get(pk=case.pk)
    before_kinds = kinds(case)
    deadlines = list(Deadline.objects.filter(case=case).values())
    with pytest.raises(exc, match=match):
        refuse()
    after = Case.objects.get(pk=case.pk)
    assert (after.version, after.status, after.breach_declared_at, after.classification) == (
        before.version, before.status, before.breach_declared_at, before.classification
    )
    assert list(Deadline.objects.filter(case=case).values()) == deadlines
    assert kinds(case) == [*before_kinds, K.REFUSED]


# -- declaring --------------------------------------------------------------------------------------


@pytest.mark.parametrize("stage", [S.DIAGNOSING, S.STABILIZING])
def test_manager_declares_a_breach_and_starts_the_72_hour_customer_notice(stage, manager, contoso):
    case = case_in_stage(stage, manager=manager)
    AffectedCustomerFactory(case=case, by=manager, organization=contoso)
    version = Case.objects.get(pk=case.pk).version
    declared = breach.declare_breach(case=case, by=manager, note="Bucket listing exposed.")
    declared.refresh_from_db()
    assert declared.breach_declared_at is not None
    assert declared.version == version + 1
    assert declared.classification == Case.Classification.CUSTOMER_REPORTABLE
    assert declared.status == stage
    deadline = notice(case)
    assert deadline.started_at == declared.breach_declared_at
    assert deadline.due_at == declared.breach_declared_at + timedelta(hours=72)
    assert not deadline.is_met
    assert kinds(case)[-1] == K.BREACH_DECLARED
    event = case.timeline.order_by("-sequence").first()
    assert event.data["organizations"] == ["Contoso"]
    assert event.data["due_at"] == deadline.due_at.isoformat()


def test_the_notice_window_follows_the_setting(settings, diagnosing, manager, contoso):
    settings.IRT_NOTIFY_WITHIN_HOURS = 24
    AffectedCustomerFactory(case=diagnosing, by=manager, organization=contoso)
    declared = breach.declare_breach(case=diagnosing, by=manager, note="Confirmed.")
    assert notice(diagnosing).due_at == declared.breach_declared_at + timedelta(hours=24)


def test_declaring_keeps_a_more_specific_classification(diagnosing, manager, contoso):
    case_services.update_case_details(
        case=diagnosing, by=manager, changes={"classification": Case.Classification.PRIVACY_BREACH}
    )
    AffectedCustomerFactory(case=diagnosing, by=manager, organization=contoso)
    declared = breach.declare_breach(case=diagnosing, by=manager, note="Personal data read.")
    assert declared.classification == Case.Classification.PRIVACY_BREACH


@pytest.mark.parametrize("stage", [S.DETECTED, S.ASSESSING, S.CLOSED])
def test_a_breach_is_declared_only_while_diagnosing_or_stabilizing(stage, manager, contoso):
    case = case_in_stage(stage, manager=manager)
    if case.is_open:
        AffectedCustomerFactory(case=case, by=manager, organization=contoso)
    else:
        with pytest.raises(ActionRefused, match="reopen it"):
            AffectedCustomerFactory(case=case, by=manager, organization=contoso)
    assert_refused_unchanged(
        case, lambda: breach.declare_breach(case=case, by=manager, note="x"), match="only while diagnosing or stabilizing"
    )
    assert not Deadline.objects.filter(case=case).exists()


def test_a_breach_needs_an_affected_organisation(diagnosing, manager):
    assert_refused_unchanged(
        diagnosing, lambda: breach.declare_breach(case=diagnosing, by=manager, note="x"), match="Add at least one affected customer"
    )


def test_an_affected_organisation_without_data_impact_is_not_a_breach(diagnosing, manager, contoso):
    AffectedCustomerFactory(case=diagnosing, by=manager, organization=contoso, data_disclosed=False)
    assert_refused_unchanged(
        diagnosing, lambda: breach.declare_breach(case=diagnosing, by=manager, note="x"), match="lost, altered or disclosed"
    )


@pytest.mark.parametrize("flag", ["data_lost", "data_altered", "data_disclosed"])
def test_lost_altered_or_disclosed_data_each_make_a_breach(flag, diagnosing, manager, contoso):
    AffectedCustomerFactory(case=diagnosing, by=manager, organization=contoso, **{"data_disclosed": False, flag: True})
    assert breach.declare_breach(case=diagnosing, by=manager, note="Confirmed.").breach_declared_at


def test_a_breach_declaration_needs_a_note(diagnosing, manager, contoso):
    AffectedCustomerFactory(case=diagnosing, by=manager, organization=contoso)
    assert_refused_unchanged(
        diagnosing, lambda: breach.declare_breach(case=diagnosing, by=manager, note=" "), match="Write what was found"
    )


def test_a_breach_is_declared_once(breached, manager):
    first = notice(breached)
    assert_refused_unchanged(
        breached, lambda: breach.declare_breach(case=breached, by=manager, note="Again."), match="already declared"
    )
    assert notice(breached) == first


def test_member_responder_cannot_declare_a_breach(diagnosing, manager, responder, contoso):
    case_services.add_member(case=diagnosing, by=manager, user=responder)
    AffectedCustomerFactory(case=diagnosing, by=manager, organization=contoso)
    assert_refused_unchanged(
        diagnosing, lambda: breach.declare_breach(case=diagnosing, by=responder, note="x"), exc=NotAllowed
    )


def test_outsider_cannot_declare_a_breach_and_leaves_no_trace(diagnosing, manager, other_responder, contoso):
    AffectedCustomerFactory(case=diagnosing, by=manager, organization=contoso)
    before = kinds(diagnosing)
    with pytest.raises(NotAllowed):
        breach.declare_breach(case=diagnosing, by=other_responder, note="x")
    assert kinds(diagnosing) == before
    assert Case.objects.get(pk=diagnosing.pk).breach_declared_at is None


# -- affected customers -----------------------------------------------------------------------------


def test_an_organisation_is_listed_once_per_case(diagnosing, manager, contoso):
    AffectedCustomerFactory(case=diagnosing, by=manager, organization=contoso)
    with pytest.raises(ActionRefused, match="already listed"):
        AffectedCustomerFactory(case=diagnosing, by=manager, organization=contoso)
    assert AffectedCustomer.objects.filter(case=diagnosing).count() == 1


def test_adding_an_affected_customer_is_on_the_timeline(diagnosing, manager, contoso):
    row = AffectedCustomerFactory(case=diagnosing, by=manager, organization=contoso, data_lost=True, confirm=False)
    assert row.confirmed_at is None
    event = diagnosing.timeline.order_by("-sequence").first()
    assert event.kind == K.CUSTOMER_ADDED
    assert event.data == {"organization": "contoso", "impacts": ["lost", "disclosed"]}
    assert "Awaiting confirmation" in event.text


def test_a_customer_can_be_withdrawn_before_and_after_the_declaration(diagnosing, manager, contoso, fabrikam):
    row = AffectedCustomerFactory(case=diagnosing, by=manager, organization=fabrikam)
    breach.withdraw_affected_customer(row=row, by=manager, reason="Their bucket was never public.")
    assert kinds(diagnosing)[-1] == K.CUSTOMER_WITHDRAWN
    row = AffectedCustomerFactory(case=diagnosing, by=manager, organization=contoso)
    breach.declare_breach(case=diagnosing, by=manager, note="Confirmed.")
    breach.withdraw_affected_customer(row=row, by=manager, reason="Changed my mind.")
    row = AffectedCustomer.objects.get(pk=row.pk)
    assert (row.is_withdrawn, row.withdrawn_by, row.withdrawal_reason) == (True, manager, "Changed my mind.")


def test_withdrawing_a_customer_needs_a_reason(diagnosing, manager, contoso):
    row = AffectedCustomerFactory(case=diagnosing, by=manager, organization=contoso)
    with pytest.raises(ActionRefused, match="Say why"):
        breach.withdraw_affected_customer(row=row, by=manager, reason="")
    assert not AffectedCustomer.objects.get(pk=row.pk).is_withdrawn


# -- notification and the deadline --------------------------------------------------------------------


def test_the_deadline_is_met_when_the_last_breached_organisation_is_notified(breached, manager):
    contoso_row, fabrikam_row = breached.affected_customers.order_by("organization__name")
    notices.record_customer_notified(row=contoso_row, how="email")
    assert not notice(breached).is_met
    assert kinds(breached)[-1] == K.CUSTOMER_NOTIFIED
    notices.record_customer_notified(row=fabrikam_row, how="webhook")
    deadline = notice(breached)
    assert deadline.met_at == AffectedCustomer.objects.get(pk=fabrikam_row.pk).notified_at
    assert kinds(breached)[-2:] == [K.CUSTOMER_NOTIFIED, K.DEADLINE_MET]
    assert breached.timeline.order_by("-sequence").first().data == {"deadline": "customer_notice", "late": False, "out_of_band": []}


def test_a_notice_after_the_due_time_meets_the_deadline_late(breached, manager):
    due = notice(breached).due_at
    for row in breached.affected_customers.all():
        notices.record_customer_notified(row=row, how="phone", at=due + timedelta(hours=1))
    last = breached.timeline.order_by("-sequence").first()
    assert last.kind == K.DEADLINE_MET
    assert last.data["late"] is True
    assert "met late" in last.text
    assert notice(breached).is_met


def test_an_unaffected_organisation_listed_on_the_case_does_not_hold_the_deadline_open(diagnosing, manager, contoso, fabrikam):
    contoso_row = AffectedCustomerFactory(case=diagnosing, by=manager, organization=contoso)
    AffectedCustomerFactory(case=diagnosing, by=manager, organization=fabrikam, data_disclosed=False)
    breach.declare_breach(case=diagnosing, by=manager, note="Confirmed.")
    notices.record_customer_notified(row=contoso_row, how="email")
    assert notice(diagnosing).is_met


def test_notifying_twice_records_it_once(breached, manager):
    row = breached.affected_customers.first()
    first = notices.record_customer_notified(row=row, how="email").notified_at
    count = breached.timeline.count()
    again = notices.record_customer_notified(row=row, how="email")
    assert again.notified_at == first
    assert breached.timeline.count() == count


def test_an_outsider_cannot_record_an_out_of_band_notice(breached, other_responder):
    row = breached.affected_customers.first()
    with pytest.raises(NotAllowed):
        notices.record_out_of_band_notice(row=row, by=other_responder, channel="phone", person_reached="CISO",
                                          reached_at=breached.breach_declared_at, evidence_reference="call 1")
    assert AffectedCustomer.objects.get(pk=row.pk).notified_at is None


def test_notifications_registers_the_unnotified_customer_close_guard():
    assert unnotified_customer_blockers in hooks.registered_close_blocker_providers()


def test_the_system_check_reports_cases_e001_when_no_close_guard_is_registered(monkeypatch):
    from django.core.checks import Error, run_checks

    monkeypatch.setattr(hooks, "_close_blocker_providers", [])
    errors = [message for message in run_checks() if message.id == "cases.E001"]
    assert len(errors) == 1 and isinstance(errors[0], Error)
    assert "notifications" in errors[0].hint


def test_the_system_check_is_silent_once_a_close_guard_is_registered(monkeypatch):
    from django.core.checks import run_checks

    monkeypatch.setattr(hooks, "_close_blocker_providers", [])
    hooks.register_close_blockers(lambda case: [])
    assert [message for message in run_checks() if message.id == "cases.E001"] == []


def test_the_close_guard_names_every_organisation_still_waiting(breached):
    assert unnotified_customer_blockers(breached) == ["Breach notice not yet delivered to Contoso, Fabrikam."]


def test_the_close_guard_is_silent_without_a_declared_breach(diagnosing, manager, contoso):
    AffectedCustomerFactory(case=diagnosing, by=manager, organization=contoso)
    assert unnotified_customer_blockers(diagnosing) == []


# -- delays ----------------------------------------------------------------------------------------


def test_a_delay_takes_effect_only_when_another_manager_approves_it(breached, manager, second_manager):
    deadline = notice(breached)
    new_due = deadline.due_at + timedelta(hours=24)
    delay = breach.request_deadline_delay(deadline=deadline, by=manager, new_due_at=new_due, reason="Police hold.")
    assert notice(breached).due_at == deadline.due_at
    assert kinds(breached)[-1] == K.DEADLINE_DELAY_REQUESTED
    breach.approve_deadline_delay(delay=delay, by=second_manager)
    assert notice(breached).due_at == new_due
    delay.refresh_from_db()
    assert delay.approved_by == second_manager
    assert kinds(breached)[-1] == K.DEADLINE_DELAY_APPROVED


def test_the_requester_cannot_approve_their_own_delay(breached, manager):
    deadline = notice(breached)
    delay = breach.request_deadline_delay(
        deadline=deadline, by=manager, new_due_at=deadline.due_at + timedelta(hours=1), reason="Police hold."
    )
    with pytest.raises(ActionRefused, match="Someone other than the requester"):
        breach.approve_deadline_delay(delay=delay, by=manager)
    assert notice(breached).due_at == deadline.due_at
    assert DeadlineDelay.objects.get(pk=delay.pk).approved_at is None


def test_the_database_refuses_a_delay_approved_by_its_requester(breached, manager):
    deadline = notice(breached)
    with pytest.raises(IntegrityError), transaction.atomic():
        DeadlineDelay.objects.create(
            deadline=deadline, new_due_at=deadline.due_at + timedelta(hours=1), reason="x",
            requested_by=manager, approved_by=manager,
        )


def test_a_member_responder_requests_a_delay_but_cannot_approve_one(breached, manager, responder):
    case_services.add_member(case=breached, by=manager, user=responder)
    deadline = notice(breached)
    delay = breach.request_deadline_delay(
        deadline=deadline, by=responder, new_due_at=deadline.due_at + timedelta(hours=1), reason="Customer asked."
    )
    with pytest.raises(NotAllowed):
        breach.approve_deadline_delay(delay=delay, by=responder)
    breach.approve_deadline_delay(delay=delay, by=manager)
    assert notice(breached).due_at == delay.new_due_at


def test_a_delay_is_approved_once(breached, manager, second_manager):
    deadline = notice(breached)
    delay = breach.request_deadline_delay(
        deadline=deadline, by=manager, new_due_at=deadline.due_at + timedelta(hours=1), reason="Hold."
    )
    breach.approve_deadline_delay(delay=delay, by=second_manager)
    with pytest.raises(ActionRefused, match="already approved"):
        breach.approve_deadline_delay(delay=delay, by=second_manager)


@pytest.mark.parametrize(
    "shift, reason, message",
    [
        (timedelta(hours=-1), "Hold.", "must move the deadline later"),
        (timedelta(0), "Hold.", "must move the deadline later"),
        (timedelta(hours=1), "  ", "Give the reason"),
    ],
)
def test_a_delay_needs_a_later_time_and_a_reason(shift, reason, message, breached, manager):
    deadline = notice(breached)
    with pytest.raises(ActionRefused, match=message):
        breach.request_deadline_delay(deadline=deadline, by=manager, new_due_at=deadline.due_at + shift, reason=reason)
    assert not DeadlineDelay.objects.exists()


def test_a_met_deadline_cannot_be_delayed(breached, manager):
    for row in breached.affected_customers.all():
        notices.record_customer_notified(row=row, how="email")
    deadline = notice(breached)
    with pytest.raises(ActionRefused, match="already met"):
        breach.request_deadline_delay(
            deadline=deadline, by=manager, new_due_at=deadline.due_at + timedelta(hours=1), reason="Hold."
        )


def test_a_deadline_is_overdue_only_after_its_due_time_and_while_unmet(breached, manager):
    deadline = notice(breached)
    assert not deadline.is_overdue(now=deadline.due_at)
    assert deadline.is_overdue(now=deadline.due_at + timedelta(seconds=1))
    assert deadline.time_left(now=deadline.due_at - timedelta(hours=2)) == timedelta(hours=2)
    for row in breached.affected_customers.all():
        notices.record_customer_notified(row=row, how="email")
    assert not notice(breached).is_overdue(now=deadline.due_at + timedelta(days=1))
