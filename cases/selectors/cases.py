"""Reads for the staff pages, each a fixed number of queries whatever the data size."""

from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import Case as CaseWhen
from django.db.models import Count, F, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce

from cases.access.querysets import owned_or_member_q, visible_cases
from cases.models import AffectedCustomer, Case, Deadline, IncidentUpdate, OutOfBandNotice, Task, TimelineEvent
from cases.models.alerts import SEVERITY_RANK


def severity_rank() -> CaseWhen:
    """Return a case's severity as a number to sort by: critical 0 … low 3 (``SEVERITY_RANK``), not assessed last."""
    return CaseWhen(
        *(When(severity=severity, then=Value(rank)) for severity, rank in SEVERITY_RANK.items()),
        default=Value(len(SEVERITY_RANK)), output_field=IntegerField(),
    )


def stage_rank() -> CaseWhen:
    """Return a case's stage as a number to sort by, in the order of the lifecycle (``Case.Status``)."""
    return CaseWhen(
        *(When(status=status, then=Value(rank)) for rank, status in enumerate(Case.Status.values)),
        default=Value(len(Case.Status.values)), output_field=IntegerField(),
    )


# What each sort key of the case list orders by; "-key" reverses it. Ties go newest first.
SORT_FIELDS = {
    "reference": [F("reference")],
    "title": [F("title")],
    "stage": [F("stage_rank")],
    "severity": [F("severity_rank")],
    "owner": [F("owner__username")],
    "detected": [F("detected_at")],
}
NULLABLE_SORTS = {"owner"}


def case_list(user, *, filters: dict) -> QuerySet:
    """Return the cases ``user`` may know that pass every filter given (they combine), sorted by ``filters["sort"]``."""
    queryset = visible_cases(user).select_related("owner")
    stage = filters.get("stage")
    if stage == "open":
        queryset = queryset.open()
    elif stage:
        queryset = queryset.filter(status=stage)
    if filters.get("severity"):
        queryset = queryset.filter(severity=filters["severity"])
    owner = filters.get("owner")
    if owner == "me":
        queryset = queryset.filter(owner=user)
    elif owner == "mine":
        queryset = queryset.filter(owned_or_member_q(user))
    elif owner == "none":
        queryset = queryset.filter(owner__isnull=True)
    breach = filters.get("breach")
    if breach == "yes":
        queryset = queryset.filter(breach_declared_at__isnull=False)
    elif breach == "no":
        queryset = queryset.filter(breach_declared_at__isnull=True)
    query = (filters.get("q") or "").strip()
    if query:
        # Imported here: the search module sorts by this module's ``severity_rank``.
        from cases.selectors.search import matching

        queryset = matching(queryset, query)
    sort = filters.get("sort") or "-detected"
    fields = SORT_FIELDS.get(sort.lstrip("-"), SORT_FIELDS["detected"])
    # Only the owner can be missing. NULLS LAST on a column that is never NULL would still differ from
    # the indexes' order (PostgreSQL puts NULLs first in DESC), and cost a sort of every listed case.
    nulls = {"nulls_last": True} if sort.lstrip("-") in NULLABLE_SORTS else {}
    order = [f.desc(**nulls) if sort.startswith("-") else f.asc(**nulls) for f in fields]
    return queryset.annotate(severity_rank=severity_rank(), stage_rank=stage_rank()).order_by(*order, "-detected_at", "-id")


def case_list_page(user, *, filters: dict, number, per_page: int) -> Page:
    """Return page ``number`` of ``case_list``: the page's ids first, then only its rows.

    Sorting and skipping ids alone keeps a deep page (OFFSET 7,000 of 10,000 cases) a small sort in
    memory; sorting whole rows to skip them spilled to disk.
    """
    listed = case_list(user, filters=filters)
    page = Paginator(listed.values_list("pk", flat=True), per_page).get_page(number)
    ids = list(page.object_list)
    rows = {case.pk: case for case in listed.filter(pk__in=ids)}
    page.object_list = [rows[pk] for pk in ids if pk in rows]
    return page


def _case_related(*, timeline: bool) -> QuerySet:
    """Return the case queryset with what its page (and, with ``timeline``, its report) shows loaded alongside."""
    lookups = [
        "affected_services",
        Prefetch(
            "affected_customers",
            queryset=AffectedCustomer.objects.select_related(
                "organization", "added_by", "confirmed_by", "pending_impact_by", "withdrawn_by"
            ).prefetch_related(
                Prefetch("out_of_band_notices", queryset=OutOfBandNotice.objects.select_related("recorded_by", "approved_by"))
            ),
        ),
        Prefetch("deadlines", queryset=Deadline.objects.select_related(
            "decision__decided_by", "close_override_by",
        ).prefetch_related("delays__requested_by", "delays__approved_by", "submissions__recorded_by", "submissions__evidence")),
        Prefetch("updates", queryset=IncidentUpdate.objects.select_related("author", "approved_by").order_by("-created_at", "-id")),
        "repair_items",
    ]
    if timeline:
        lookups += [
            Prefetch("tasks", queryset=Task.objects.select_related("assignee", "done_by", "skipped_by")),
            Prefetch("timeline", queryset=TimelineEvent.objects.select_related("actor").order_by("-sequence")),
        ]
    return Case.objects.select_related(
        "owner", "created_by", "duplicate_of", "review", "review__author", "review__approved_by",
        "published_review", "published_review__author",
    ).prefetch_related(*lookups)


def case_detail(case: Case) -> Case:
    """Return the case with everything it holds, its whole timeline and every task included (the case report)."""
    return _case_related(timeline=True).get(pk=case.pk)


def case_page(case: Case) -> Case:
    """Return the case with what its page shows beside the windows below, in a bounded number of queries.

    The timeline and the tasks grow without limit, so the page reads them in windows
    (``timeline_window``, ``task_panel``) instead of prefetching them.
    """
    return _case_related(timeline=False).get(pk=case.pk)


# How many rows each window of the case page shows at most.
TIMELINE_WINDOW = 50
OPEN_TASK_WINDOW = 50
FINISHED_TASKS_SHOWN = 10


@dataclass
class TimelineWindow:
    events: list
    # The sequence number to pass as ``before`` for the next, older window; None when nothing older matches.
    older: int | None


def timeline_window(case: Case, *, kind: str = "", actor: str = "", before: int | None = None) -> TimelineWindow:
    """Return the newest ``TIMELINE_WINDOW`` events of the case matching ``kind`` and ``actor`` (a username), older than ``before``.

    A keyset window on the chain's own order (``sequence``, unique per case and indexed with the
    case): the database walks the index from the cursor, so the hundredth window costs what the
    first does, where an OFFSET would read and drop every event before it.
    """
    events = TimelineEvent.objects.filter(case=case)
    if kind:
        events = events.filter(kind=kind)
    if actor:
        events = events.filter(actor_name=actor)
    if before is not None:
        events = events.filter(sequence__lt=before)
    rows = list(events.order_by("-sequence")[:TIMELINE_WINDOW + 1])
    shown = rows[:TIMELINE_WINDOW]
    return TimelineWindow(events=shown, older=shown[-1].sequence if len(rows) > TIMELINE_WINDOW else None)


@dataclass
class TaskPanel:
    open_tasks: list
    # The task id to pass as ``tasks_after`` for the next window of open tasks; None when this is the last.
    more_open_after: int | None
    finished: list
    open_count: int
    finished_count: int


def task_panel(case: Case, *, after: int | None = None) -> TaskPanel:
    """Return the case's open tasks (soonest due first, undated last) in a window after task ``after``, and the latest finished ones.

    Three queries whatever the number of tasks: the counts, a keyset window of open tasks and
    the ``FINISHED_TASKS_SHOWN`` most recently finished (the timeline holds every one of them).
    """
    tasks = Task.objects.filter(case=case).select_related("assignee", "done_by", "skipped_by")
    is_open = Q(done_at__isnull=True, skipped_at__isnull=True)
    counts = Task.objects.filter(case=case).aggregate(open=Count("pk", filter=is_open), finished=Count("pk", filter=~is_open))
    open_tasks = tasks.filter(is_open)
    if after is not None:
        anchor = Task.objects.filter(case=case, pk=after).values("due_at").first()
        if anchor is not None and anchor["due_at"] is not None:
            open_tasks = open_tasks.filter(
                Q(due_at__gt=anchor["due_at"]) | Q(due_at=anchor["due_at"], pk__gt=after) | Q(due_at__isnull=True)
            )
        elif anchor is not None:
            open_tasks = open_tasks.filter(due_at__isnull=True, pk__gt=after)
    rows = list(open_tasks.order_by(F("due_at").asc(nulls_last=True), "pk")[:OPEN_TASK_WINDOW + 1])
    shown = rows[:OPEN_TASK_WINDOW]
    finished = list(
        tasks.exclude(is_open).annotate(finished_at=Coalesce("done_at", "skipped_at"))
        .order_by(F("finished_at").desc(), "-pk")[:FINISHED_TASKS_SHOWN]
    )
    return TaskPanel(
        open_tasks=shown, more_open_after=shown[-1].pk if len(rows) > OPEN_TASK_WINDOW else None,
        finished=finished, open_count=counts["open"], finished_count=counts["finished"],
    )
