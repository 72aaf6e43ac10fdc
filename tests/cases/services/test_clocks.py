"""Regulatory clocks: the rule table's arithmetic under frozen time, decisions, submissions, closing."""

from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

import re

import pytest
import time_machine

from cases.models import clock_rules as rules
from cases.models.exceptions import ActionRefused, NotAllowed
from cases.models import Case, ClockDecision, Deadline, TimelineEvent
from cases.services import clocks, lifecycle, review
from cases.services import cases as case_services
from tests.factories import StaffFactory, case_in_stage

UTC = dt_timezone.utc
D = ClockDecision.Kind
K = Deadline.Kind


def utc(*args):
    return datetime(*args, tzinfo=UTC)


# -- the calendars ------------------------------------------------------------------------

def test_sec_materiality_the_day_before_thanksgiving_is_due_the_next_wednesday():
    # Wed 25 Nov 2026; Thu 26 is Thanksgiving; Fri 27, Mon 30, Tue 1, Wed 2 are the four business days.
    due = rules.due_at(rules.RULES[K.SEC_8K], start=utc(2026, 11, 25, 15, 0))
    assert due == utc(2026, 12, 2, 22, 30)  # 17:30 in New York (EST, UTC-5)


def test_sec_business_days_skip_the_weekend():
    due = rules.due_at(rules.RULES[K.SEC_8K], start=utc(2026, 3, 6, 14, 0))  # a Friday
    assert due.date() == datetime(2026, 3, 12).date()  # Mon, Tue, Wed, Thu


def test_sec_cutoff_follows_new_york_daylight_saving_time():
    # Mon 2 Mar 2026 → Fri 6 Mar (EST) vs Mon 9 Mar 2026 → Fri 13 Mar (EDT, after the 8 Mar change).
    assert rules.due_at(rules.RULES[K.SEC_8K], start=utc(2026, 3, 2, 15)) == utc(2026, 3, 6, 22, 30)
    assert rules.due_at(rules.RULES[K.SEC_8K], start=utc(2026, 3, 9, 15)) == utc(2026, 3, 13, 21, 30)


def test_sec_determination_late_evening_in_new_york_counts_from_that_new_york_day():
    # 02:00 UTC on Tue 8 Dec is still Mon 7 Dec in New York.
    due = rules.due_at(rules.RULES[K.SEC_8K], start=utc(2026, 12, 8, 2, 0))
    assert due.date() == datetime(2026, 12, 11).date()


def test_sec_skips_independence_day_observed_and_christmas():
    assert rules.due_at(rules.RULES[K.SEC_8K], start=utc(2026, 7, 1, 15)).date() == datetime(2026, 7, 8).date()
    assert rules.due_at(rules.RULES[K.SEC_8K], start=utc(2026, 12, 22, 15)).date() == datetime(2026, 12, 29).date()


@pytest.mark.parametrize("start", [utc(2026, 3, 28, 12), utc(2026, 10, 24, 12), utc(2026, 3, 7, 12), utc(2026, 10, 31, 12)])
def test_hour_clocks_are_exactly_72_hours_across_european_and_us_dst_changes(start):
    # 29 Mar / 25 Oct 2026 in Europe, 8 Mar / 1 Nov 2026 in the US: counting in UTC, nothing moves.
    assert rules.due_at(rules.RULES[K.GDPR_ART33], start=start) - start == timedelta(hours=72)
    assert rules.due_at(rules.RULES[K.NIS2_EARLY_WARNING], start=start) - start == timedelta(hours=24)


@pytest.mark.parametrize(("start", "due"), [
    (utc(2026, 1, 31, 9), utc(2026, 2, 28, 9)),
    (utc(2028, 1, 31, 9), utc(2028, 2, 29, 9)),
    (utc(2026, 3, 31, 9), utc(2026, 4, 30, 9)),
    (utc(2026, 12, 31, 9), utc(2027, 1, 31, 9)),
    (utc(2026, 5, 15, 9), utc(2026, 6, 15, 9)),
])
def test_one_month_reports_end_on_the_last_day_when_the_next_month_is_shorter(start, due):
    assert rules.due_at(rules.RULES[K.NIS2_FINAL], start=start) == due
    assert rules.due_at(rules.RULES[K.DORA_FINAL], start=start) == due


def test_hipaa_is_sixty_calendar_days():
    assert rules.due_at(rules.RULES[K.HIPAA], start=utc(2026, 11, 1, 8)) == utc(2026, 12, 31, 8)


def test_dora_initial_is_four_hours_after_classification_but_never_later_than_24_hours_after_awareness():
    rule = rules.RULES[K.DORA_INITIAL]
    assert rules.due_at(rule, start=utc(2026, 6, 1, 10), aware_at=utc(2026, 6, 1, 8)) == utc(2026, 6, 1, 14)
    assert rules.due_at(rule, start=utc(2026, 6, 2, 6), aware_at=utc(2026, 6, 1, 8)) == utc(2026, 6, 2, 8)


def test_nis2_notification_counts_72_hours_from_awareness_not_from_the_early_warning():
    rule = rules.RULES[K.NIS2_NOTIFICATION]
    assert rules.due_at(rule, start=utc(2026, 6, 1, 20), decision_at=utc(2026, 6, 1, 8)) == utc(2026, 6, 4, 8)


def test_every_deadline_kind_has_a_rule():
    assert set(rules.RULES) == set(K.values)


# -- decisions, submissions, following stages -----------------------------------------------

@pytest.fixture
def case(manager):
    return case_in_stage(Case.Status.DIAGNOSING, manager=manager)


@time_machine.travel(utc(2026, 11, 25, 15, 0), tick=False)
def test_manager_records_materiality_and_the_sec_clock_runs_to_wednesday(case, manager):
    decision = clocks.record_decision(case=case, by=manager, kind=D.MATERIAL, note="Disclosure committee: material.")
    clock = case.deadlines.get(kind=K.SEC_8K)
    assert clock.decision == decision and clock.started_at == utc(2026, 11, 25, 15)
    assert clock.due_at == utc(2026, 12, 2, 22, 30)
    kinds = list(case.timeline.order_by("sequence").values_list("kind", flat=True))[-2:]
    assert kinds == [TimelineEvent.Kind.CLOCK_DECISION, TimelineEvent.Kind.CLOCK_STARTED]


def test_a_decision_names_who_decided_and_needs_a_note(case, manager):
    with pytest.raises(ActionRefused):
        clocks.record_decision(case=case, by=manager, kind=D.PERSONAL_DATA_BREACH, note="  ")
    assert not case.clock_decisions.exists()
    decision = clocks.record_decision(case=case, by=manager, kind=D.PERSONAL_DATA_BREACH, note="DPO agrees.")
    assert decision.decided_by == manager
    with pytest.raises(ActionRefused, match="already recorded"):
        clocks.record_decision(case=case, by=manager, kind=D.PERSONAL_DATA_BREACH, note="Again.")


def test_a_responder_cannot_record_a_decision(case, manager, responder):
    case_services.add_member(case=case, by=manager, user=responder)
    with pytest.raises(NotAllowed):
        clocks.record_decision(case=case, by=responder, kind=D.MATERIAL, note="Material.")
    assert not case.deadlines.exists()


def test_gdpr_art34_needs_a_target_after_the_decision(case, manager):
    with pytest.raises(ActionRefused, match="target"):
        clocks.record_decision(case=case, by=manager, kind=D.HIGH_RISK, note="Passwords exposed.")
    target = case.detected_at + timedelta(days=3)
    clocks.record_decision(case=case, by=manager, kind=D.HIGH_RISK, note="Passwords exposed.", target_at=target)
    assert case.deadlines.get(kind=K.GDPR_ART34).due_at == target


def test_awareness_recorded_in_the_past_counts_from_then(case, manager):
    aware = case.detected_at
    clocks.record_decision(case=case, by=manager, kind=D.PERSONAL_DATA_BREACH, note="Aware at detection.", decided_at=aware)
    assert case.deadlines.get(kind=K.GDPR_ART33).due_at == aware + timedelta(hours=72)


def test_several_clocks_run_on_one_case_and_nis2_stages_follow_one_another(case, manager):
    with time_machine.travel(utc(2026, 6, 1, 8, 0), tick=False):
        clocks.record_decision(case=case, by=manager, kind=D.SIGNIFICANT_INCIDENT, note="Significant.")
        clocks.record_decision(case=case, by=manager, kind=D.PERSONAL_DATA_BREACH, note="Personal data.")
    assert set(case.deadlines.values_list("kind", flat=True)) == {K.NIS2_EARLY_WARNING, K.GDPR_ART33}
    with time_machine.travel(utc(2026, 6, 1, 20, 0), tick=False):
        clocks.record_submission(deadline=case.deadlines.get(kind=K.NIS2_EARLY_WARNING), by=manager,
                                 recipient="", content="Early warning: suspected malicious, no cross-border impact.",
                                 reference_number="CSIRT-2026-117")
    early = case.deadlines.get(kind=K.NIS2_EARLY_WARNING)
    notification = case.deadlines.get(kind=K.NIS2_NOTIFICATION)
    assert early.met_at == utc(2026, 6, 1, 20) and early.submissions.get().recipient == rules.RULES[K.NIS2_EARLY_WARNING].recipient
    assert notification.follows == early and notification.due_at == utc(2026, 6, 4, 8)
    with time_machine.travel(utc(2026, 6, 3, 9, 0), tick=False):
        clocks.record_submission(deadline=notification, by=manager, recipient="BSI", content="Notification.")
    assert case.deadlines.get(kind=K.NIS2_FINAL).due_at == utc(2026, 7, 3, 9)


def test_dora_stages_follow_one_another(case, manager):
    with time_machine.travel(utc(2026, 6, 1, 8, 0), tick=False):
        clocks.record_decision(case=case, by=manager, kind=D.MAJOR_INCIDENT, note="Major per the RTS criteria.")
        initial = case.deadlines.get(kind=K.DORA_INITIAL)
        clocks.record_submission(deadline=initial, by=manager, recipient="", content="Initial notification.")
    intermediate = case.deadlines.get(kind=K.DORA_INTERMEDIATE)
    assert intermediate.due_at == utc(2026, 6, 4, 8)
    with time_machine.travel(utc(2026, 6, 3, 8, 0), tick=False):
        clocks.record_submission(deadline=intermediate, by=manager, recipient="", content="Intermediate.")
    assert case.deadlines.get(kind=K.DORA_FINAL).due_at == utc(2026, 7, 3, 8)


def test_the_customer_notice_is_never_met_by_a_submission(case, manager):
    clock = Deadline.objects.create(case=case, kind=K.CUSTOMER_NOTICE, started_at=case.detected_at,
                                    due_at=case.detected_at + timedelta(hours=72))
    with pytest.raises(ActionRefused, match="customer notice"):
        clocks.record_submission(deadline=clock, by=manager, recipient="Contoso", content="We called them.")
    clock.refresh_from_db()
    assert clock.met_at is None and not clock.submissions.exists()


def test_a_submission_cannot_be_recorded_in_the_future_or_twice(case, manager):
    clocks.record_decision(case=case, by=manager, kind=D.HIPAA_DISCOVERY, note="PHI in the bucket.")
    clock = case.deadlines.get(kind=K.HIPAA)
    with pytest.raises(ActionRefused, match="future"):
        clocks.record_submission(deadline=clock, by=manager, recipient="", content="Letters.",
                                 submitted_at=clock.started_at + timedelta(days=400))
    clocks.record_submission(deadline=clock, by=manager, recipient="", content="Letters sent.")
    with pytest.raises(ActionRefused, match="already met"):
        clocks.record_submission(deadline=case.deadlines.get(kind=K.HIPAA), by=manager, recipient="", content="Again.")


def test_organisation_flags_give_the_default_decisions(manager, contoso, fabrikam):
    from cases.services import breach

    contoso.in_eu, contoso.nis2_entity = True, True
    contoso.save()
    case = case_in_stage(Case.Status.DIAGNOSING, manager=manager)
    breach.add_affected_customer(case=case, by=manager, organization=contoso, data_disclosed=True)
    breach.add_affected_customer(case=case, by=manager, organization=fabrikam, data_lost=True)
    assert clocks.default_decisions(case) == [D.PERSONAL_DATA_BREACH, D.SIGNIFICANT_INCIDENT]


# -- closing ---------------------------------------------------------------------------------

def _ready_to_close(manager) -> Case:
    case = case_in_stage(Case.Status.STABILIZING, manager=manager)
    author = StaffFactory()
    case_services.add_member(case=case, by=manager, user=author)
    review.save_review(case=case, by=author, what_happened="Key leaked.", what_went_wrong="Key in a public repo.")
    review.approve_review(case=case, by=manager)
    return case


def test_a_running_clock_blocks_closing_until_submitted(manager):
    case = _ready_to_close(manager)
    clocks.record_decision(case=case, by=manager, kind=D.PERSONAL_DATA_BREACH, note="Personal data.")
    with pytest.raises(ActionRefused, match="GDPR Art. 33 .* clock is still running"):
        lifecycle.close_case(case=case, by=manager, note="Done.")
    clocks.record_submission(deadline=case.deadlines.get(), by=manager, recipient="CNIL", content="Art. 33 form.",
                             reference_number="CNIL-42")
    assert lifecycle.close_case(case=case, by=manager, note="Done.").status == Case.Status.CLOSED


def test_a_manager_records_why_the_case_may_close_while_a_clock_runs(manager, responder):
    case = _ready_to_close(manager)
    case_services.add_member(case=case, by=manager, user=responder)
    clocks.record_decision(case=case, by=manager, kind=D.SIGNIFICANT_INCIDENT, note="Significant.")
    clock = case.deadlines.get()
    with pytest.raises(NotAllowed):
        clocks.override_for_close(deadline=clock, by=responder, reason="Not mine to say.")
    with pytest.raises(ActionRefused):
        clocks.override_for_close(deadline=clock, by=manager, reason=" ")
    clocks.override_for_close(deadline=clock, by=manager, reason="The authority confirmed by phone it is not significant.")
    assert case.timeline.filter(kind=TimelineEvent.Kind.CLOCK_CLOSE_OVERRIDE).exists()
    assert lifecycle.close_case(case=case, by=manager, note="Done.").status == Case.Status.CLOSED


# -- declaring a breach asks which regimes apply ------------------------------------------------

def test_declaring_a_breach_of_an_eu_customer_pre_ticks_gdpr_and_starts_both_clocks(client, manager, contoso):
    from tests.factories import AffectedCustomerFactory

    contoso.in_eu = True
    contoso.save()
    case = case_in_stage(Case.Status.DIAGNOSING, manager=manager)
    AffectedCustomerFactory(case=case, by=manager, organization=contoso)
    client.force_login(manager)
    url = f"{case.get_absolute_url()}declare-breach/"
    page = client.get(url).content.decode()
    assert re.search(r'<input[^>]*value="personal_data_breach"[^>]*checked', page)
    assert not re.search(r'<input[^>]*value="material"[^>]*checked', page)
    case.refresh_from_db()
    response = client.post(url, {"version": case.version, "note": "Logs show reads of Contoso objects.", "confirm": "on",
                                 "regimes": ["personal_data_breach"], "raise_severity": "on", "breach_category": "privacy"})
    assert response.status_code == 302
    assert set(case.deadlines.values_list("kind", flat=True)) == {K.CUSTOMER_NOTICE, K.GDPR_ART33}
    decision = case.clock_decisions.get()
    assert decision.decided_by == manager and decision.note == "Logs show reads of Contoso objects."
    page = client.get(case.get_absolute_url()).content.decode()
    assert "GDPR Art. 33 notification to the supervisory authority" in page and "Customer notice" in page


def test_a_refused_declaration_starts_no_clock(manager, contoso):
    from cases.services import breach

    case = case_in_stage(Case.Status.DIAGNOSING, manager=manager)
    with pytest.raises(ActionRefused):
        breach.declare_breach(case=case, by=manager, note="No customers yet.", regimes=[D.PERSONAL_DATA_BREACH])
    assert not case.deadlines.exists() and not case.clock_decisions.exists()


def test_no_reason_overrides_the_customer_notice(manager):
    case = _ready_to_close(manager)
    clock = Deadline.objects.create(case=case, kind=K.CUSTOMER_NOTICE, started_at=case.detected_at,
                                    due_at=case.detected_at + timedelta(hours=72))
    with pytest.raises(ActionRefused, match="customer notice"):
        clocks.override_for_close(deadline=clock, by=manager, reason="We phoned them.")
    clock.refresh_from_db()
    assert clock.close_override_at is None
