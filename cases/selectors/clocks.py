"""Reads for the clocks panel of the case page."""

from dataclasses import dataclass

from django.utils import timezone

from cases.models import clock_rules as rules
from cases.models import Case, ClockDecision, Deadline


@dataclass
class ClockRow:
    clock: Deadline
    rule: rules.ClockRule
    overdue: bool


def case_clocks(case: Case) -> dict:
    """Return the case's clocks, running ones soonest first, then met ones; and its decisions.

    Reads the deadlines, decisions and affected organisations ``selectors.case_detail`` prefetched.
    """
    now = timezone.now()
    clocks = sorted(case.deadlines.all(), key=lambda c: (c.is_met, c.met_at if c.is_met else c.due_at))
    # Every decision starts at least one clock, so the clocks carry all of them.
    decisions = sorted({c.decision_id: c.decision for c in clocks if c.decision_id}.values(), key=lambda d: d.decided_at)
    recorded = {d.kind for d in decisions}
    breached = [row.organization for row in case.affected_customers.all() if not row.is_withdrawn and row.is_breach]
    defaults = rules.default_decisions_for(breached)
    return {
        "clocks": [ClockRow(clock, rules.RULES[clock.kind], clock.is_overdue(now)) for clock in clocks],
        "clock_decisions": decisions,
        "clock_decision_defaults": [ClockDecision.Kind(k) for k in defaults if k not in recorded] if case.is_open else [],
    }
