"""Response metrics, computed from timeline events in a fixed number of queries whatever the number of cases.

A case's milestones are the first timeline event of each kind that marks one (the first
transition into assessing is when it was triaged, the first into stabilizing when it was
contained, the breach declaration, the customer notice deadline met). The database groups the
events per case and kind, so a case costs one row per milestone and the page costs the same
few queries at ten cases or ten thousand; medians and 90th percentiles are taken in Python.
"""

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Min, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import TruncMonth
from django.utils import timezone

from cases.access.querysets import visible_cases
from cases.models import AlertGroup, Case, Deadline, RepairItem, TimelineEvent

# The first transition into each stage marks these milestones (a dismissal ends triage and the case).
MILESTONES_OF_STAGE = {
    Case.Status.ASSESSING: ("triaged",),
    Case.Status.DISMISSED: ("triaged", "finished"),
    Case.Status.DIAGNOSING: ("assessed",),
    Case.Status.STABILIZING: ("contained",),
    Case.Status.CLOSED: ("recovered", "finished"),
}


@dataclass(frozen=True)
class Interval:
    """A duration between two milestones of a case."""

    key: str
    title: str
    start: str
    end: str


INTERVALS = (
    Interval("triage", "Time to triage", "detected", "triaged"),
    Interval("assess", "Time to assess", "detected", "assessed"),
    Interval("contain", "Time to contain", "detected", "contained"),
    Interval("recover", "Time to recover (containment to close)", "contained", "recovered"),
    Interval("close", "Time to close or dismiss", "detected", "finished"),
    Interval("notify", "Breach declaration to delivered customer notice", "breach_declared", "notified"),
)

DIMENSIONS = {"month": "Month detected", "severity": "Severity", "source": "Source", "playbook": "Playbook"}

# Open cases by how long ago they were detected: (key, label, upper bound).
AGE_BUCKETS = (
    ("day", "Under a day", timedelta(days=1)),
    ("week", "1–7 days", timedelta(days=7)),
    ("month", "7–30 days", timedelta(days=30)),
    ("older", "Over 30 days", None),
)


@dataclass
class Row:
    """One line of a figure: a group of cases and its values; ``case_ids`` are the cases behind it."""

    group: str
    label: str
    values: dict
    case_ids: list[int] = field(default_factory=list)


@dataclass
class Figure:
    """A table (and its chart): ``columns`` name the values, ``chart`` the column the bars show."""

    key: str
    title: str
    columns: tuple[tuple[str, str], ...]
    chart: str
    rows: list[Row]
    unit: str = ""


@dataclass
class Period:
    since: date
    until: date

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        """Return the period as aware datetimes, ``until`` included as a whole day."""
        zone = timezone.get_current_timezone()
        return (datetime.combine(self.since, time.min, zone), datetime.combine(self.until + timedelta(days=1), time.min, zone))


def default_period(today: date | None = None) -> Period:
    today = today or timezone.localdate()
    return Period(since=today - timedelta(days=365), until=today)


def percentile(values: list[float], share: float) -> float:
    """Return the nearest-rank percentile of sorted ``values`` (``share`` 0.9 for the 90th)."""
    return values[max(0, math.ceil(share * len(values)) - 1)]


def duration_values(hours: list[float]) -> dict:
    ordered = sorted(hours)
    return {"n": len(ordered), "median": statistics.median(ordered), "p90": percentile(ordered, 0.9)}


def _truthy(value) -> bool:
    """Read a JSON boolean the way each database hands it back as text ("true" or "1")."""
    return str(value).lower() in ("true", "1")


def case_milestones(cases) -> dict[int, dict]:
    """Return, per case id, its case facts and the moment of each milestone, in two queries."""
    records = {}
    for row in cases.values("id", "reference", "severity", "source", "status", "detected_at", "playbook_version__playbook__name"):
        records[row["id"]] = {**row, "milestones": {"detected": row["detected_at"]}}
    events = (
        TimelineEvent.objects.filter(
            case__in=cases.values("id"),
            kind__in=[TimelineEvent.Kind.TRANSITION, TimelineEvent.Kind.BREACH_DECLARED, TimelineEvent.Kind.DEADLINE_MET],
        )
        .annotate(target=KeyTextTransform("to", "data"), deadline=KeyTextTransform("deadline", "data"),
                  late=KeyTextTransform("late", "data"))
        .values("case_id", "kind", "target", "deadline", "late")
        .annotate(first=Min("at"))
        .order_by()
    )
    for event in events:
        record = records.get(event["case_id"])
        if record is None:
            continue
        names: tuple[str, ...] = ()
        if event["kind"] == TimelineEvent.Kind.TRANSITION:
            names = MILESTONES_OF_STAGE.get(event["target"], ())
        elif event["kind"] == TimelineEvent.Kind.BREACH_DECLARED:
            names = ("breach_declared",)
        elif event["deadline"] == Deadline.Kind.CUSTOMER_NOTICE:
            names = ("notified",)
            record["notice_late"] = _truthy(event["late"])
        for name in names:
            seen = record["milestones"].get(name)
            record["milestones"][name] = min(seen, event["first"]) if seen else event["first"]
    return records


def _group_of(record: dict, dimension: str) -> tuple[str, str]:
    """Return the (key, label) of the group a case falls in along ``dimension``."""
    if dimension == "month":
        month = timezone.localtime(record["detected_at"]).strftime("%Y-%m")
        return month, month
    if dimension == "severity":
        return record["severity"] or "none", Case.Severity(record["severity"]).label if record["severity"] else "Not set"
    if dimension == "source":
        return record["source"], Case.Source(record["source"]).label
    name = record["playbook_version__playbook__name"]
    return name or "none", name or "No playbook"


def _grouped(records, dimension: str) -> dict[tuple[str, str], list[dict]]:
    groups = defaultdict(list)
    for record in records:
        groups[_group_of(record, dimension)].append(record)
    return dict(sorted(groups.items()))


def interval_figure(interval: Interval, records: list[dict], dimension: str) -> Figure:
    """Median and 90th percentile, in hours, of one interval per group, and over all cases."""
    rows = []
    measured_all = []
    for (group, label), members in [*_grouped(records, dimension).items(), (("all", "All cases"), records)]:
        measured = [
            (record["id"], (record["milestones"][interval.end] - record["milestones"][interval.start]).total_seconds() / 3600)
            for record in members
            if interval.start in record["milestones"] and interval.end in record["milestones"]
        ]
        if group == "all":
            measured_all = measured
        elif not measured:
            continue
        values = duration_values([hours for _, hours in measured]) if measured else {"n": 0, "median": None, "p90": None}
        rows.append(Row(group, label, values, [case_id for case_id, _ in measured]))
    if not measured_all:
        rows = []
    return Figure(interval.key, interval.title, (("n", "Cases"), ("median", "Median (h)"), ("p90", "90th percentile (h)")),
                  "median", rows, unit="h")


def notice_figures(records: list[dict], dimension: str) -> tuple[Figure, Figure]:
    """Customer notices delivered within their deadline (share per group), and the late ones per group."""
    shares, lates = [], []
    noticed = [record for record in records if "notice_late" in record]
    for (group, label), members in [*_grouped(noticed, dimension).items(), (("all", "All cases"), noticed)]:
        late = [record["id"] for record in members if record["notice_late"]]
        on_time = len(members) - len(late)
        values = {"n": len(members), "on_time": on_time, "late": len(late),
                  "share": round(100 * on_time / len(members), 1) if members else None}
        shares.append(Row(group, label, values, [record["id"] for record in members]))
        if late:
            lates.append(Row(group, label, {"n": len(late)}, late))
    share = Figure("notices", "Customer notices delivered within the deadline",
                   (("n", "Notices"), ("on_time", "On time"), ("late", "Late"), ("share", "On time (%)")), "share",
                   shares if noticed else [], unit="%")
    return share, Figure("late_notices", "Late customer notices", (("n", "Late notices"),), "n", lates)


def open_age_figure(cases, now: datetime) -> Figure:
    """Open cases by how long ago they were detected (every open case the reader sees, whatever the period)."""
    buckets = {key: [] for key, _, _ in AGE_BUCKETS}
    for case_id, detected_at in cases.open().values_list("id", "detected_at"):
        age = now - detected_at
        key = next(key for key, _, bound in AGE_BUCKETS if bound is None or age < bound)
        buckets[key].append(case_id)
    rows = [Row(key, label, {"n": len(buckets[key])}, buckets[key]) for key, label, _ in AGE_BUCKETS]
    return Figure("open_age", "Open cases by age", (("n", "Open cases"),), "n", rows)


def repair_figure(cases) -> Figure:
    """Repair items with a target date: done by it, done late, still open past it, still open in time."""
    today = timezone.localdate()
    outcomes = {"on_time": ("Done by the target date", []), "late": ("Done after the target date", []),
                "overdue": ("Open past the target date", []), "pending": ("Open, not yet due", [])}
    items = RepairItem.objects.filter(case__in=cases.values("id"), estimated_completion__isnull=False)
    for case_id, status, target, completed in items.values_list("case_id", "status", "estimated_completion", "completed_on"):
        if status == RepairItem.Status.DONE:
            key = "on_time" if completed is None or completed <= target else "late"
        else:
            key = "overdue" if target < today else "pending"
        outcomes[key][1].append(case_id)
    rows = [Row(key, label, {"n": len(ids)}, sorted(set(ids))) for key, (label, ids) in outcomes.items()]
    return Figure("repairs", "Repair items and their target dates", (("n", "Items"),), "n", rows)


def alert_figure(period: Period) -> Figure:
    """Alert groups first seen in the period, per month and how they ended (their cases are behind promoted and attached)."""
    since, until = period.bounds
    counts = (
        AlertGroup.objects.filter(first_seen_at__gte=since, first_seen_at__lt=until)
        .annotate(month=TruncMonth("first_seen_at"))
        .values("month", "status")
        .annotate(groups=Count("id"), alerts=Sum("alert_count"))
        .order_by("month", "status")
    )
    table: dict[str, dict] = {}
    for line in counts:
        month = line["month"].strftime("%Y-%m")
        values = table.setdefault(month, {"alerts": 0, **{status: 0 for status in AlertGroup.Status.values}})
        values["alerts"] += line["alerts"] or 0
        values[line["status"]] += line["groups"]
    rows = [Row(month, month, values) for month, values in table.items()]
    columns = (("alerts", "Alerts"), *((status, f"Groups {label.lower()}") for status, label in AlertGroup.Status.choices))
    return Figure("alerts", "Alert volume and how the groups ended", columns, "alerts", rows)


def metrics(user, *, period: Period, dimension: str, now: datetime | None = None) -> dict:
    """Return every figure of the metrics page for the cases ``user`` may see, detected in ``period``."""
    now = now or timezone.now()
    since, until = period.bounds
    visible = visible_cases(user)
    in_period = visible.filter(detected_at__gte=since, detected_at__lt=until)
    records = list(case_milestones(in_period).values())
    return {
        "cases": len(records),
        "durations": [interval_figure(interval, records, dimension) for interval in INTERVALS],
        "notices": notice_figures(records, dimension),
        "open_age": open_age_figure(visible, now),
        "repairs": repair_figure(in_period),
        "alerts": alert_figure(period),
    }


def all_figures(result: dict) -> list[Figure]:
    return [*result["durations"], *result["notices"], result["open_age"], result["repairs"], result["alerts"]]


def row_behind(user, *, period: Period, dimension: str, figure: str, group: str) -> tuple[Figure, Row] | None:
    """Return one figure and one of its rows (whose ``case_ids`` are the cases behind it), or None."""
    chosen = next((item for item in all_figures(metrics(user, period=period, dimension=dimension)) if item.key == figure), None)
    row = next((item for item in chosen.rows if item.group == group), None) if chosen else None
    return (chosen, row) if row else None


def cases_by_id(user, ids: list[int]) -> list[Case]:
    """Return the visible cases among ``ids`` (one page of a drill-down), in reference order."""
    return list(visible_cases(user).filter(pk__in=ids).select_related("owner").order_by("reference"))
