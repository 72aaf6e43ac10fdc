"""Regulatory clocks on a case: the decisions that start them, submissions that meet them, overrides.

The rules (what starts a clock, how long, in which calendar, to whom) are in ``cases.models.clock_rules``.
Delays of any clock go through ``cases.services.breach.request_deadline_delay`` and
``approve_deadline_delay`` (approver is not the requester), the same as the customer notice.
"""

from django.db import transaction
from django.utils import timezone

from cases.models import clock_rules as rules
from cases.models.exceptions import ActionRefused
from cases.models import AffectedCustomer, Case, ClockDecision, ClockSubmission, Deadline, TimelineEvent
from cases.services.timeline import append_event, lock_for_work, lock_row_for_work

Decision = ClockDecision.Kind


def default_decisions(case: Case) -> list[str]:
    """Return the decisions to pre-tick for the case, from the flags of its affected organisations."""
    rows = AffectedCustomer.objects.filter(case=case).active().breached().select_related("organization")
    return rules.default_decisions_for([row.organization for row in rows])


def _start_clock(*, case: Case, by, rule: rules.ClockRule, start, decision: ClockDecision, follows=None) -> Deadline:
    due = rules.due_at(
        rule, start=start, decision_at=decision.decided_at, aware_at=decision.aware_at or case.detected_at,
        target_at=decision.target_at,
    )
    clock = Deadline.objects.create(case=case, kind=rule.kind, started_at=start, due_at=due, decision=decision, follows=follows)
    append_event(
        case=case, actor=by, kind=TimelineEvent.Kind.CLOCK_STARTED,
        text=f"{clock.get_kind_display()} clock started ({rule.starts}): due {due:%Y-%m-%d %H:%M} UTC, "
        f"to {rule.recipient}.",
        data={"deadline": rule.kind, "started_at": start.isoformat(), "due_at": due.isoformat()},
    )
    return clock


def record_decision_on_locked_case(*, case: Case, by, kind: str, note: str, decided_at=None, aware_at=None,
                                   target_at=None) -> ClockDecision:
    """Record a decision on a case the caller locked as a manager, and start its clocks."""
    now = timezone.now()
    note = (note or "").strip()
    decided_at = decided_at or now
    reasons = []
    if kind not in Decision.values:
        reasons.append("Choose which decision is recorded.")
    elif case.clock_decisions.filter(kind=kind).exists():
        reasons.append(f"“{Decision(kind).label}” is already recorded on this case.")
    if not note:
        reasons.append("Write a note: what the decision rests on.")
    if decided_at > now or (aware_at and aware_at > now):
        reasons.append("A decision or awareness cannot be in the future.")
    if aware_at and aware_at > decided_at:
        reasons.append("Awareness comes before or with the decision.")
    if kind == Decision.HIGH_RISK and (target_at is None or target_at <= decided_at):
        reasons.append("Set the target for telling the data subjects: a time after the decision.")
    if not case.is_open:
        reasons.append("The case is closed; reopen it to record a decision.")
    if reasons:
        raise ActionRefused(reasons)
    decision = ClockDecision.objects.create(
        case=case, kind=kind, decided_at=decided_at, aware_at=aware_at, target_at=target_at, note=note, decided_by=by
    )
    append_event(
        case=case, actor=by, kind=TimelineEvent.Kind.CLOCK_DECISION,
        text=f"Decision by {by.display_name}: {decision.get_kind_display()}, at {decided_at:%Y-%m-%d %H:%M} UTC. {note}",
        data={"decision": kind, "decided_at": decided_at.isoformat(), "note": note},
    )
    for rule in rules.rules_started_by(kind):
        _start_clock(case=case, by=by, rule=rule, start=decided_at, decision=decision)
    return decision


@transaction.atomic
def record_decision(*, case: Case, by, kind: str, note: str, decided_at=None, aware_at=None, target_at=None) -> ClockDecision:
    """Record a decision that starts a regime's clocks (incident managers only)."""
    locked = lock_for_work(case, by, manage=True)
    return record_decision_on_locked_case(case=locked, by=by, kind=kind, note=note, decided_at=decided_at,
                                          aware_at=aware_at, target_at=target_at)


@transaction.atomic
def record_submission(*, deadline: Deadline, by, recipient: str, content: str, submitted_at=None,
                      reference_number: str = "", evidence=None) -> ClockSubmission:
    """Record what was sent to meet a clock; start the regime's next stage if there is one."""
    locked = lock_for_work(deadline.case, by)
    clock = Deadline.objects.select_for_update(of=("self",)).select_related("decision").get(pk=deadline.pk, case=locked)
    now = timezone.now()
    submitted_at = submitted_at or now
    rule = rules.RULES[clock.kind]
    reasons = []
    if clock.kind == Deadline.Kind.CUSTOMER_NOTICE:
        reasons.append("The customer notice is met by each affected customer's delivered or approved notice, not by a submission.")
    elif clock.is_met:
        reasons.append("This clock is already met.")
    if not (content or "").strip():
        reasons.append("Say what was sent.")
    if submitted_at > now:
        reasons.append("A submission cannot be in the future.")
    if evidence is not None and evidence.case_id != locked.pk:
        reasons.append("The document must be evidence of this case.")
    if reasons:
        raise ActionRefused(reasons)
    submission = ClockSubmission.objects.create(
        deadline=clock, recipient=(recipient or "").strip() or rule.recipient, submitted_at=submitted_at,
        content=content.strip(), reference_number=(reference_number or "").strip(), evidence=evidence, recorded_by=by,
    )
    clock.met_at = submitted_at
    clock.save(update_fields=["met_at"])
    late = clock.met_at > clock.due_at
    append_event(
        case=locked, actor=by, kind=TimelineEvent.Kind.CLOCK_SUBMITTED,
        text=f"{clock.get_kind_display()} submitted{' late' if late else ''} to {submission.recipient} at "
        f"{submitted_at:%Y-%m-%d %H:%M} UTC" + (f", reference {submission.reference_number}" if submission.reference_number else "")
        + ".",
        data={"deadline": clock.kind, "submission": submission.pk, "late": late,
              "reference": submission.reference_number, "evidence": evidence.pk if evidence else None},
    )
    if rule.next_kind and not locked.deadlines.filter(kind=rule.next_kind).exists():
        _start_clock(case=locked, by=by, rule=rules.RULES[rule.next_kind], start=submitted_at, decision=clock.decision,
                     follows=clock)
    return submission


@transaction.atomic
def override_for_close(*, deadline: Deadline, by, reason: str) -> Deadline:
    """Record an incident manager's reason to close the case while this clock still runs."""
    locked, clock = lock_row_for_work(deadline, by, manage=True)
    reason = (reason or "").strip()
    if clock.kind == Deadline.Kind.CUSTOMER_NOTICE:
        raise ActionRefused("The customer notice is kept by delivering every notice; no reason replaces that.")
    if clock.is_met:
        raise ActionRefused("This clock is met; nothing to override.")
    if clock.close_override_at:
        raise ActionRefused("A reason to close anyway is already recorded for this clock.")
    if not reason:
        raise ActionRefused("Say why the case may close while this clock runs.")
    clock.close_override_reason, clock.close_override_by, clock.close_override_at = reason, by, timezone.now()
    clock.save(update_fields=["close_override_reason", "close_override_by", "close_override_at"])
    append_event(
        case=locked, actor=by, kind=TimelineEvent.Kind.CLOCK_CLOSE_OVERRIDE,
        text=f"The case may close while the {clock.get_kind_display()} clock runs (due {clock.due_at:%Y-%m-%d %H:%M} UTC): {reason}",
        data={"deadline": clock.kind, "reason": reason},
    )
    return clock
