"""Reads for the staff pages, each a fixed number of queries whatever the data size."""

import functools
from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import Case as CaseWhen
from django.db.models import Count, F, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce

from cases.access.permissions import is_staff_user
from cases.access.prepared import PreparedQuery, PreparedSlice
from cases.access.querysets import owned_or_member_q, staff_role, stand_in_viewer, visible_cases
from cases.models import AffectedCustomer, Case, Deadline, IncidentUpdate, OutOfBandNotice, Task, TimelineEvent, User
from cases.models.alerts import SEVERITY_RANK
from cases.models.dashboard_data import kept_with_queue_data
from irt.watched_reads import watched_reads


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
    # Only the rank the sort orders by: building both for every list cost a share of each request (issue 18).
    ranks = {"stage": {"stage_rank": stage_rank}, "severity": {"severity_rank": severity_rank}}.get(sort.lstrip("-"), {})
    return queryset.annotate(**{name: rank() for name, rank in ranks.items()}).order_by(*order, "-detected_at", "-id")


# What the case list reads of each listed case (and of its owner): the columns it shows, and ``version`` and
# ``timeline_head``, which every service that changes a case moves. The list's kept copy is keyed on these rows as read
# (``cases.views.case_list``): a column the list starts to show must be read here, or the page cannot show it.
LIST_ROW_FIELDS = (
    "id", "reference", "title", "status", "severity", "breach_declared_at", "restricted", "detected_at", "owner_id",
    "version", "timeline_head",
)
LIST_OWNER_FIELDS = ("username", "first_name", "last_name")
LIST_ROW_COLUMNS = (*LIST_ROW_FIELDS, *(f"owner__{name}" for name in LIST_OWNER_FIELDS))


def case_list_page(user, *, filters: dict, number, per_page: int) -> Page:
    """Return page ``number`` of ``case_list``: its rows, as tuples of ``LIST_ROW_FIELDS`` followed by the owner's
    ``LIST_OWNER_FIELDS`` (``list_cases`` makes them cases to show).

    A page among the first ``WHOLE_ROWS_UNTIL`` cases is read in one query, rows and all. A deeper one reads the page's
    ids first, then only its rows: sorting and skipping ids alone keeps a deep page (OFFSET 7,000 of 10,000 cases) a
    small sort in memory; sorting whole rows to skip them spilled to disk. The total and the page are queries compiled
    once per reader's role and filters (``_listing_queries``), the rows by ids one compiled once (``_LIST_ROWS``).
    """
    searched = bool((filters.get("q") or "").strip())
    prepared = None if searched or not is_staff_user(user) else _listing_queries(staff_role(user), tuple(sorted(filters.items())))
    if prepared is None:
        # A search is a query of its own each time (``search.matching``): the ORM's way, as for anyone who is not staff.
        listing = case_list(user, filters=filters).values_list("pk", flat=True)
    else:
        listing = _PreparedListing(*prepared, user_id=user.pk, kept_as=repr((staff_role(user), sorted(filters.items()), user.pk)))
    page = Paginator(listing, per_page).get_page(number)
    if prepared and (page.number - 1) * per_page < WHOLE_ROWS_UNTIL:  # the slice ``Paginator`` read: whole rows
        page.object_list = [row[:len(LIST_ROW_COLUMNS)] for row in page.object_list]
        return page
    ids = [row[0] for row in page.object_list] if prepared else list(page.object_list)
    if not ids:
        rows = {}
    elif len(ids) <= LIST_PAGE_SLOTS:
        # A shorter page repeats its first id in the unused parameters: ``IN`` ignores the repeats.
        rows = {row[0]: row for row in _LIST_ROWS.rows(**dict(zip(_LIST_ROW_SLOTS, ids + ids[:1] * (LIST_PAGE_SLOTS - len(ids)))))}
    else:
        rows = {row[0]: row for row in _list_rows(*ids)}
    page.object_list = [rows[pk] for pk in ids if pk in rows]
    return page


# The list's pages among its first this many cases are read whole, sorted rows and all, in one query; deeper ones by ids.
WHOLE_ROWS_UNTIL = 1_000


@functools.lru_cache(maxsize=256)
def _listing_queries(role: tuple, filters: tuple) -> tuple[PreparedSlice, PreparedSlice, PreparedSlice]:
    """Return the total, the sorted ids and the sorted rows of ``case_list`` for readers of ``role`` and these filters (no search).

    The filters' values are choices (the form refuses any other), so their SQL is one of a few hundred
    shapes; each is compiled on first use in this process and thread, the least recently used dropped.
    """
    shown = dict(filters)

    def listed(user_id):
        return case_list(stand_in_viewer(role, user_id), filters=shown)

    # One row: the count of every row the filters pass (grouped by a constant, which Django leaves out of GROUP BY).
    total = PreparedSlice(lambda *, user_id: listed(user_id).order_by().annotate(everything=Value(1)).values("everything")
                          .annotate(total=Count("*")).values_list("total"),
                          placeholders={"user_id": -830_001}, others={"user_id": -840_001}, optional=("user_id",))
    ids = PreparedSlice(lambda *, user_id: listed(user_id).values_list("pk"),
                        placeholders={"user_id": -830_001}, others={"user_id": -840_001}, optional=("user_id",))
    rows = PreparedSlice(lambda *, user_id: listed(user_id).values_list(*LIST_ROW_COLUMNS),
                         placeholders={"user_id": -830_001}, others={"user_id": -840_001}, optional=("user_id",))
    return total, ids, rows


class _PreparedListing:
    """``case_list`` as ``Paginator`` reads it: ``count()`` and a slice, of whole rows until ``WHOLE_ROWS_UNTIL``, of ids after.

    The total is kept until the rows it counts change (``kept_with_queue_data``; ``kept_as`` names the reader and the
    filters): counting every visible case cost the database more than the rest of the page (issue 18). A page's rows
    are the database's answer each time: kept in this process only until a table the query read changes
    (``irt.watched_reads``), so which cases a reader may know is decided by the rows as they are now.
    """

    def __init__(self, total: PreparedSlice, ids: PreparedSlice, rows: PreparedSlice, *, user_id: int, kept_as: str):
        self.total, self.ids, self.rows, self.user_id, self.kept_as = total, ids, rows, user_id, kept_as

    def count(self) -> int:
        return kept_with_queue_data(f"case-list-total:{self.kept_as}", self._count)

    def _count(self) -> int:
        rows = self.total.rows_slice(limit=1, offset=0, user_id=self.user_id)
        return rows[0][0] if rows else 0

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, window: slice) -> list[tuple]:
        read = self.rows if window.start < WHOLE_ROWS_UNTIL else self.ids
        return watched_reads.kept_read(
            f"read:case-list:{self.kept_as}:{window.start}:{window.stop}",
            lambda: read.rows_slice(limit=window.stop - window.start, offset=window.start, user_id=self.user_id))


def _list_rows(*ids) -> QuerySet:
    """Return the list's rows of the cases ``ids`` (those the reader may know, read just now: their rows need neither
    the access rules nor the order again)."""
    return Case.objects.filter(pk__in=ids).values_list(*LIST_ROW_COLUMNS)


# A page of the list (``cases.views.case_list.PAGE_SIZE``) is at most this many cases: one parameter each, so the rows'
# query is always the same SQL, compiled once per process (``access.prepared``). A longer page takes the ORM's way.
LIST_PAGE_SLOTS = 50
_LIST_ROW_SLOTS = [f"case_{i}" for i in range(LIST_PAGE_SLOTS)]
_LIST_ROWS = PreparedQuery(lambda **ids: _list_rows(*ids.values()),
                           placeholders={slot: -810_001 - i for i, slot in enumerate(_LIST_ROW_SLOTS)},
                           others={slot: -820_001 - i for i, slot in enumerate(_LIST_ROW_SLOTS)})


def list_cases(rows) -> list[Case]:
    """Return the rows of ``case_list_page`` as cases with their owners, built as the ORM builds the rows of ``only()``."""
    # ``from_db`` takes the values of the fields read in the model's own order.
    case_fields = [field.attname for field in Case._meta.concrete_fields if field.attname in LIST_ROW_FIELDS]
    case_at = [LIST_ROW_FIELDS.index(name) for name in case_fields]
    owner_id, owner_at = LIST_ROW_FIELDS.index("owner_id"), len(LIST_ROW_FIELDS)
    owner_fields = [field.attname for field in User._meta.concrete_fields if field.attname in ("id", *LIST_OWNER_FIELDS)]
    owner_names = ("id", *LIST_OWNER_FIELDS)
    cases = []
    for row in rows:
        case = Case.from_db("default", case_fields, [row[i] for i in case_at])
        if row[owner_id] is not None:
            owner = dict(zip(owner_names, (row[owner_id], *row[owner_at:])))
            case.owner = User.from_db("default", owner_fields, [owner[name] for name in owner_fields])
        else:
            case.owner = None
        cases.append(case)
    return cases


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
