"""The regulatory and contractual clocks: one rule table, and the calendars to count in.

Pure rules, no database: ``RULES`` lists the clocks regime by regime (``regime``): what starts each,
how long it runs, in which calendar and to whom the submission goes; ``MUST_CONTAIN`` says what
each submission must contain, and ``due_at`` does the arithmetic (``COUNT_FORWARD``). ``cases.services.clocks`` records the decisions and submissions that start and meet
the clocks. Everything is stored and counted in UTC, except where a regime counts days in a
named place (US business days end at the EDGAR cut-off in New York), so a change of daylight
saving time never moves an hour-based clock.
"""

import calendar
from dataclasses import asdict, dataclass
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
class Stage:
    """One clock as its regime lists it; ``regime`` adds what the regime's clocks share."""

    kind: str
    starts: str  # what starts it, in words
    calendar: str
    amount: int
    # "start": counted from when the clock started; "decision": from the decision that began the regime.
    due_from: str = "start"
    # DORA: the initial notification is due at most this many hours after awareness, whatever else.
    cap_hours_after_awareness: int | None = None


@dataclass(frozen=True, kw_only=True)
class ClockRule(Stage):
    regime: str
    start_event: str  # a decision kind, BREACH_DECLARED, or the kind of the clock whose submission starts it
    recipient: str
    must_contain: str
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


# What each submission must contain, in the words of the regulation or contract.
MUST_CONTAIN = {
    K.CUSTOMER_NOTICE: "What happened, the customer's own impact, what we are doing and what they should do.",
    K.GDPR_ART33: "Art. 33(3): nature of the breach, categories and approximate numbers of data subjects and records; "
    "the DPO's contact; likely consequences; measures taken or proposed.",
    K.GDPR_ART34: "Art. 34(2): in clear and plain language, the nature of the breach, the DPO's contact, likely "
    "consequences and the measures taken.",
    K.NIS2_EARLY_WARNING: "Art. 23(4)(a): whether the incident is suspected to be unlawful or malicious and whether it "
    "could have a cross-border impact.",
    K.NIS2_NOTIFICATION: "Art. 23(4)(b): an update of the early warning, an initial assessment with severity and "
    "impact, and indicators of compromise where available.",
    K.NIS2_FINAL: "Art. 23(4)(d): a detailed description with severity and impact, the likely root cause, the "
    "mitigation applied and ongoing, and any cross-border impact.",
    K.DORA_INITIAL: "The initial notification template: classification criteria met, what is known, affected services.",
    K.DORA_INTERMEDIATE: "The intermediate report: updated classification, impact, root cause so far, recovery status.",
    K.DORA_FINAL: "The final report: root cause analysis, measures taken, costs and losses, lessons learned.",
    K.SEC_8K: "The material aspects of the incident's nature, scope and timing, and its material or reasonably "
    "likely material impact on the registrant.",
    K.HIPAA: "45 CFR 164.404(c): what happened, the PHI involved, steps individuals should take, what is being "
    "done, and contact procedures.",
}


def regime(name: str, recipient: str, start_event: str, *stages: Stage) -> list[ClockRule]:
    """Return a regime's clocks in order: the first starts on ``start_event``, each later one when
    the one before it is submitted, and all go to ``recipient``.

    A follow-up's start event and its predecessor's ``next_kind`` are one fact, so it is written once.
    """
    rules = []
    for stage, following in zip(stages, [*stages[1:], None]):
        rules.append(ClockRule(
            regime=name, recipient=recipient, start_event=start_event, must_contain=MUST_CONTAIN[stage.kind],
            next_kind=following.kind if following else None, **asdict(stage),
        ))
        start_event = stage.kind
    return rules


RULES: dict[str, ClockRule] = {rule.kind: rule for rule in [
    *regime("Contract", "Every affected customer's security contacts", BREACH_DECLARED,
            Stage(K.CUSTOMER_NOTICE, "breach declared", HOURS, 72)),
    *regime("GDPR", "The lead supervisory authority", Decision.PERSONAL_DATA_BREACH,
            Stage(K.GDPR_ART33, "awareness of a personal-data breach", HOURS, 72)),
    *regime("GDPR", "The data subjects concerned", Decision.HIGH_RISK,
            Stage(K.GDPR_ART34, "decision that the risk to data subjects is high", TARGET, 0)),
    *regime("NIS2", "The national CSIRT or competent authority", Decision.SIGNIFICANT_INCIDENT,
            Stage(K.NIS2_EARLY_WARNING, "awareness of a significant incident", HOURS, 24),
            # Starts once the early warning is in, but Art. 23(4)(b) counts 72 h from awareness.
            Stage(K.NIS2_NOTIFICATION, "early warning submitted", HOURS, 72, due_from="decision"),
            Stage(K.NIS2_FINAL, "incident notification submitted", MONTHS, 1)),
    *regime("DORA", "The competent authority (DORA Art. 19)", Decision.MAJOR_INCIDENT,
            Stage(K.DORA_INITIAL, "classification as a major ICT-related incident", HOURS, 4, cap_hours_after_awareness=24),
            Stage(K.DORA_INTERMEDIATE, "initial notification submitted", HOURS, 72),
            Stage(K.DORA_FINAL, "intermediate report submitted", MONTHS, 1)),
    *regime("SEC", "The SEC, on EDGAR (Form 8-K Item 1.05)", Decision.MATERIAL,
            Stage(K.SEC_8K, "materiality determination", US_BUSINESS_DAYS, 4)),
    *regime("HIPAA", "Affected individuals (and HHS; the media when more than 500 in a state)", Decision.HIPAA_DISCOVERY,
            Stage(K.HIPAA, "discovery of a breach of unsecured PHI", CALENDAR_DAYS, 60)),
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


def edgar_business_days_after(moment: datetime, count: int) -> datetime:
    """Return the EDGAR cut-off (17:30 New York) on the ``count``-th US business day after ``moment``."""
    last = us_business_days_after(moment.astimezone(NEW_YORK).date(), count)
    return datetime.combine(last, EDGAR_CUTOFF, tzinfo=NEW_YORK).astimezone(dt_timezone.utc)


# How each calendar counts ``amount`` forward from a moment; TARGET has no arithmetic (a manager sets it).
COUNT_FORWARD = {
    HOURS: lambda moment, amount: moment + timedelta(hours=amount),
    CALENDAR_DAYS: lambda moment, amount: moment + timedelta(days=amount),
    MONTHS: add_months,
    US_BUSINESS_DAYS: edgar_business_days_after,
}


def due_at(rule: ClockRule, *, start: datetime, decision_at: datetime | None = None,
           aware_at: datetime | None = None, target_at: datetime | None = None) -> datetime:
    """Return when the clock is due, in UTC."""
    base = decision_at if rule.due_from == "decision" and decision_at else start
    if rule.calendar == TARGET:
        if target_at is None:
            raise ValueError(f"{rule.kind} needs a target set by a manager.")
        due = target_at
    else:
        due = COUNT_FORWARD[rule.calendar](base, rule.amount)
    if rule.cap_hours_after_awareness is not None and aware_at is not None:
        due = min(due, aware_at + timedelta(hours=rule.cap_hours_after_awareness))
    return due
