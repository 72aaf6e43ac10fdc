"""The regulatory and contractual clocks: one rule table, and the calendars to count in.

Pure rules, no database: ``RULES`` says for each clock kind what starts it, how long it runs, in
which calendar, to whom the submission goes and what it must contain; ``due_at`` does the
arithmetic. ``cases.services.clocks`` records the decisions and submissions that start and meet
the clocks. Everything is stored and counted in UTC, except where a regime counts days in a
named place (US business days end at the EDGAR cut-off in New York), so a change of daylight
saving time never moves an hour-based clock.
"""

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from datetime import timezone as dt_timezone
from zoneinfo import ZoneInfo

import holidays

from cases.models.clocks import ClockDecision
from cases.models.deadlines import Deadline

K = Deadline.Kind
Decision = ClockDecision.Kind

HOURS = "hours"
CALENDAR_DAYS = "calendar_days"
MONTHS = "months"
US_BUSINESS_DAYS = "us_business_days"
TARGET = "target"  # a date a manager sets ("without undue delay")

BREACH_DECLARED = "breach_declared"

NEW_YORK = ZoneInfo("America/New_York")
# EDGAR dates a filing submitted after 17:30 Eastern on the next business day.
EDGAR_CUTOFF = time(17, 30)


@dataclass(frozen=True)
class ClockRule:
    kind: str
    regime: str
    starts: str  # what starts it, in words
    start_event: str  # a decision kind, BREACH_DECLARED, or the kind of the clock whose submission starts it
    calendar: str
    amount: int
    recipient: str
    must_contain: str
    # "start": counted from when the clock started; "decision": from the decision that began the regime.
    due_from: str = "start"
    # DORA: the initial notification is due at most this many hours after awareness, whatever else.
    cap_hours_after_awareness: int | None = None
    next_kind: str | None = None

    @property
    def follows_submission(self) -> bool:
        return self.start_event in K.values

    def duration_text(self) -> str:
        return {
            HOURS: f"{self.amount} h",
            CALENDAR_DAYS: f"{self.amount} calendar days",
            MONTHS: f"{self.amount} month{'s' if self.amount != 1 else ''}",
            US_BUSINESS_DAYS: f"{self.amount} US business days",
            TARGET: "without undue delay (target set by the manager)",
        }[self.calendar]


RULES: dict[str, ClockRule] = {rule.kind: rule for rule in [
    ClockRule(
        K.CUSTOMER_NOTICE, "Contract", "breach declared", BREACH_DECLARED, HOURS, 72,
        recipient="Every affected customer's security contacts",
        must_contain="What happened, the customer's own impact, what we are doing and what they should do.",
    ),
    ClockRule(
        K.GDPR_ART33, "GDPR", "awareness of a personal-data breach", Decision.PERSONAL_DATA_BREACH, HOURS, 72,
        recipient="The lead supervisory authority",
        must_contain="Art. 33(3): nature of the breach, categories and approximate numbers of data subjects and records; "
        "the DPO's contact; likely consequences; measures taken or proposed.",
    ),
    ClockRule(
        K.GDPR_ART34, "GDPR", "decision that the risk to data subjects is high", Decision.HIGH_RISK, TARGET, 0,
        recipient="The data subjects concerned",
        must_contain="Art. 34(2): in clear and plain language, the nature of the breach, the DPO's contact, likely "
        "consequences and the measures taken.",
    ),
    ClockRule(
        K.NIS2_EARLY_WARNING, "NIS2", "awareness of a significant incident", Decision.SIGNIFICANT_INCIDENT, HOURS, 24,
        recipient="The national CSIRT or competent authority",
        must_contain="Art. 23(4)(a): whether the incident is suspected to be unlawful or malicious and whether it could "
        "have a cross-border impact.",
        next_kind=K.NIS2_NOTIFICATION,
    ),
    ClockRule(
        # Starts once the early warning is in, but Art. 23(4)(b) counts 72 h from awareness.
        K.NIS2_NOTIFICATION, "NIS2", "early warning submitted", K.NIS2_EARLY_WARNING, HOURS, 72, due_from="decision",
        recipient="The national CSIRT or competent authority",
        must_contain="Art. 23(4)(b): an update of the early warning, an initial assessment with severity and impact, "
        "and indicators of compromise where available.",
        next_kind=K.NIS2_FINAL,
    ),
    ClockRule(
        K.NIS2_FINAL, "NIS2", "incident notification submitted", K.NIS2_NOTIFICATION, MONTHS, 1,
        recipient="The national CSIRT or competent authority",
        must_contain="Art. 23(4)(d): a detailed description with severity and impact, the likely root cause, the "
        "mitigation applied and ongoing, and any cross-border impact.",
    ),
    ClockRule(
        K.DORA_INITIAL, "DORA", "classification as a major ICT-related incident", Decision.MAJOR_INCIDENT, HOURS, 4,
        cap_hours_after_awareness=24,
        recipient="The competent authority (DORA Art. 19)",
        must_contain="The initial notification template: classification criteria met, what is known, affected services.",
        next_kind=K.DORA_INTERMEDIATE,
    ),
    ClockRule(
        K.DORA_INTERMEDIATE, "DORA", "initial notification submitted", K.DORA_INITIAL, HOURS, 72,
        recipient="The competent authority (DORA Art. 19)",
        must_contain="The intermediate report: updated classification, impact, root cause so far, recovery status.",
        next_kind=K.DORA_FINAL,
    ),
    ClockRule(
        K.DORA_FINAL, "DORA", "intermediate report submitted", K.DORA_INTERMEDIATE, MONTHS, 1,
        recipient="The competent authority (DORA Art. 19)",
        must_contain="The final report: root cause analysis, measures taken, costs and losses, lessons learned.",
    ),
    ClockRule(
        K.SEC_8K, "SEC", "materiality determination", Decision.MATERIAL, US_BUSINESS_DAYS, 4,
        recipient="The SEC, on EDGAR (Form 8-K Item 1.05)",
        must_contain="The material aspects of the incident's nature, scope and timing, and its material or reasonably "
        "likely material impact on the registrant.",
    ),
    ClockRule(
        K.HIPAA, "HIPAA", "discovery of a breach of unsecured PHI", Decision.HIPAA_DISCOVERY, CALENDAR_DAYS, 60,
        recipient="Affected individuals (and HHS; the media when more than 500 in a state)",
        must_contain="45 CFR 164.404(c): what happened, the PHI involved, steps individuals should take, what is being "
        "done, and contact procedures.",
    ),
]}

# Which organisation flag makes a decision the default when a breach is declared.
DEFAULT_FLAGS = {
    Decision.PERSONAL_DATA_BREACH: "in_eu",
    Decision.SIGNIFICANT_INCIDENT: "nis2_entity",
    Decision.MAJOR_INCIDENT: "financial_entity",
    Decision.HIPAA_DISCOVERY: "hipaa_covered_entity",
}


def default_decisions_for(organizations) -> list[str]:
    """Return the decisions to pre-tick when these organisations' data is affected."""
    organizations = list(organizations)
    return [kind for kind, flag in DEFAULT_FLAGS.items() if any(getattr(org, flag) for org in organizations)]


def rules_started_by(event: str) -> list[ClockRule]:
    return [rule for rule in RULES.values() if rule.start_event == event]


def add_months(moment: datetime, months: int) -> datetime:
    """Return the same time ``months`` later, on the month's last day when that day does not exist."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def us_business_days_after(day: date, count: int) -> date:
    """Return the ``count``-th business day after ``day``: weekends and US federal holidays skipped."""
    closed = holidays.country_holidays("US", years=range(day.year, day.year + 2))
    current = day
    while count:
        current += timedelta(days=1)
        if current.weekday() < 5 and current not in closed:
            count -= 1
    return current


def due_at(rule: ClockRule, *, start: datetime, decision_at: datetime | None = None,
           aware_at: datetime | None = None, target_at: datetime | None = None) -> datetime:
    """Return when the clock is due, in UTC."""
    base = decision_at if rule.due_from == "decision" and decision_at else start
    if rule.calendar == HOURS:
        due = base + timedelta(hours=rule.amount)
    elif rule.calendar == CALENDAR_DAYS:
        due = base + timedelta(days=rule.amount)
    elif rule.calendar == MONTHS:
        due = add_months(base, rule.amount)
    elif rule.calendar == US_BUSINESS_DAYS:
        local_day = base.astimezone(NEW_YORK).date()
        last = us_business_days_after(local_day, rule.amount)
        due = datetime.combine(last, EDGAR_CUTOFF, tzinfo=NEW_YORK).astimezone(dt_timezone.utc)
    elif rule.calendar == TARGET:
        if target_at is None:
            raise ValueError(f"{rule.kind} needs a target set by a manager.")
        due = target_at
    else:  # pragma: no cover - the table above is the only input
        raise ValueError(rule.calendar)
    if rule.cap_hours_after_awareness is not None and aware_at is not None:
        due = min(due, aware_at + timedelta(hours=rule.cap_hours_after_awareness))
    return due
