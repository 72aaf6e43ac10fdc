"""The public promise scorecard: per quarter, how the notice and repair promises were kept.

Public figures must not let anyone single out a customer, so every count under
``IRT_SCORECARD_MIN_COUNT`` (default 5) is shown only as "fewer than N", and the share and
median it would carry are left out with it.
"""

import statistics
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, Max, OuterRef, Subquery

from cases.models import AffectedCustomer, Deadline, IncidentUpdate, RepairItem

DEFAULT_MIN_COUNT = 5


def min_count() -> int:
    return getattr(settings, "IRT_SCORECARD_MIN_COUNT", DEFAULT_MIN_COUNT)


@dataclass
class Measure:
    """A count with what is derived from it; ``suppressed`` hides all of it."""

    count: int
    value: float | None = None
    suppressed: bool = False


@dataclass
class Quarter:
    key: str
    label: str
    notices: Measure = field(default_factory=lambda: Measure(0))
    hours_to_notice: Measure = field(default_factory=lambda: Measure(0))
    corrections: Measure = field(default_factory=lambda: Measure(0))
    repairs: Measure = field(default_factory=lambda: Measure(0))


def quarter_of(moment) -> tuple[str, str]:
    quarter = (moment.month - 1) // 3 + 1
    return f"{moment.year}-q{quarter}", f"{moment.year} Q{quarter}"


def _measure(count: int, value: float | None, threshold: int) -> Measure:
    if 0 < count < threshold:
        return Measure(count=0, suppressed=True)
    return Measure(count=count, value=value if count else None)


def scorecard() -> list[Quarter]:
    """Return the quarters with any promise to report, newest first, small counts suppressed (three queries)."""
    threshold = min_count()
    notices, corrections, repairs = {}, {}, {}
    due = Deadline.objects.filter(case=OuterRef("case"), kind=Deadline.Kind.CUSTOMER_NOTICE).values("due_at")[:1]
    notified = (
        AffectedCustomer.objects.breached()
        .filter(notified_at__isnull=False, case__breach_declared_at__isnull=False)
        .annotate(due_at=Subquery(due))
        .values_list("case__breach_declared_at", "notified_at", "due_at")
    )
    for declared, notified_at, due_at in notified:
        notices.setdefault(quarter_of(declared), []).append((notified_at <= due_at if due_at else False,
                                                            (notified_at - declared).total_seconds() / 3600))
    for (published_at,) in IncidentUpdate.objects.published().filter(corrects__isnull=False).values_list("published_at"):
        corrections.setdefault(quarter_of(published_at), []).append(1)
    done = RepairItem.objects.filter(status=RepairItem.Status.DONE, completed_on__isnull=False, estimated_completion__isnull=False)
    for completed_on, target in done.values_list("completed_on", "estimated_completion"):
        repairs.setdefault(quarter_of(completed_on), []).append(completed_on <= target)
    quarters = []
    for key, label in sorted({*notices, *corrections, *repairs}, reverse=True):
        given = notices.get((key, label), [])
        in_time = [on_time for on_time, _ in given]
        finished = repairs.get((key, label), [])
        quarters.append(Quarter(
            key=key, label=label,
            notices=_measure(len(given), _share(in_time), threshold),
            hours_to_notice=_measure(len(given), statistics.median([hours for _, hours in given]) if given else None, threshold),
            corrections=_measure(len(corrections.get((key, label), [])), None, threshold),
            repairs=_measure(len(finished), _share(finished), threshold),
        ))
    return quarters


def _share(flags: list[bool]) -> float | None:
    return round(100 * sum(flags) / len(flags), 1) if flags else None


def fingerprint() -> tuple:
    """Return what changes whenever the scorecard could (for the ETag): counts and newest stamps of each source."""
    rows = AffectedCustomer.objects.aggregate(n=Count("id"), at=Max("notified_at"))
    updates = IncidentUpdate.objects.published().aggregate(n=Count("id"), at=Max("published_at"))
    items = RepairItem.objects.aggregate(n=Count("id"), at=Max("updated_at"))
    return (rows["n"], rows["at"], updates["n"], updates["at"], items["n"], items["at"], min_count())
