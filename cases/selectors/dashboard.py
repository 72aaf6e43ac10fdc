"""Reads for the staff dashboard: what is on fire, in a fixed number of queries whatever the data size.

Each queue is the rows shown (at most ``LIMIT``) and how many there are in all, read together: a
window ``COUNT(*) OVER ()`` is computed over every row the query finds before ``LIMIT`` keeps the
first ones, so it is the queue's total even when that is more than the rows shown. Case queues go
most severe first, then oldest first; a clock that has run out puts its case at the top.

Every query is built from the same access functions as before (``visible_cases``,
``owned_or_member_q``, ``triage_queue``) and compiled once per process and role
(``cases.access.prepared``), then run with each request's user and time (issue 18): building and
compiling them on every request cost more than the rest of the page together.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Case as CaseWhen
from django.db.models import Count, Exists, IntegerField, Min, OuterRef, Q, QuerySet, Subquery, Value, When, Window
from django.utils import timezone

from cases.access.permissions import can_approve_communication, is_manager, is_staff_user
from cases.access.prepared import PreparedQuery
from cases.access.querysets import owned_or_member_q, staff_role, stand_in_viewer, visible_cases
from cases.models import AffectedCustomer, Case, Deadline, IncidentUpdate, OutOfBandNotice, PostIncidentReview, PublishedReview, Task
from cases.models import hooks
from cases.models.alerts import SEVERITY_RANK
from cases.selectors.alerts import triage_queue
from cases.selectors.cases import severity_rank

LIMIT = 20
# A task counts as due on the dashboard from this long before its due time.
TASK_DUE_WITHIN = timedelta(hours=24)


@dataclass
class Queue:
    rows: list
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.rows)


def _with_total(queryset: QuerySet, limit: int = LIMIT) -> QuerySet:
    """Return the first ``limit`` rows, each annotated with ``queue_total``: how many rows the whole query finds."""
    return queryset.annotate(queue_total=Window(Count("*")))[:limit]


def _queue(rows: list) -> Queue:
    return Queue(rows=rows, total=rows[0].queue_total if rows else 0)


# The queries, each a function of the viewer (and of the time where it matters) returning a queryset.

def _open_cases(user) -> QuerySet:
    return visible_cases(user).open().annotate(severity_rank=severity_rank()).select_related("owner")


def _per_stage(user) -> QuerySet:
    return visible_cases(user).order_by().values_list("status").annotate(n=Count("pk")).values_list("status", "n")


def _unowned(user) -> QuerySet:
    return _with_total(_open_cases(user).filter(owner__isnull=True).order_by("severity_rank", "detected_at", "pk"))


def _alert_groups(user) -> QuerySet:
    return _with_total(triage_queue(user))


def _breaches(user, *, now) -> QuerySet:
    """Return open cases with a declared breach or a running clock: overdue first, then most severe, then oldest."""
    running = Deadline.objects.filter(met_at__isnull=True)
    return _with_total(
        _open_cases(user).filter(Q(breach_declared_at__isnull=False) | Exists(running.filter(case=OuterRef("pk"))))
        .annotate(next_due=Min("deadlines__due_at", filter=Q(deadlines__met_at__isnull=True)))
        .annotate(overdue=CaseWhen(When(next_due__lt=now, then=Value(0)), default=Value(1), output_field=IntegerField()))
        .order_by("overdue", "severity_rank", "detected_at", "pk")
    )


def late_notices(visible: QuerySet, now) -> QuerySet:
    """Return the organisations whose breach notice is late: their case's customer-notice clock ran out
    and neither a delivered notice nor an approved out-of-band notice reached them. Latest due first
    is not what matters at 3 a.m.: the longest overdue comes first.
    """
    notice_clock = Deadline.objects.filter(case=OuterRef("case"), kind=Deadline.Kind.CUSTOMER_NOTICE).order_by("due_at")
    return (
        AffectedCustomer.objects.awaiting_notice().filter(case__in=visible.open())
        .annotate(notice_due_at=Subquery(notice_clock.values("due_at")[:1]))
        .filter(notice_due_at__lt=now)
        .select_related("case", "organization")
        .order_by("notice_due_at", "case__reference", "organization__name")
    )


def _late_notices(user, *, now) -> QuerySet:
    return _with_total(late_notices(visible_cases(user), now))


def _my_tasks(user, *, due_before) -> QuerySet:
    return _with_total(
        Task.objects.open().filter(assignee=user, due_at__lte=due_before, case__in=visible_cases(user).open())
        .select_related("case").order_by("due_at", "pk")
    )


def _my_cases(user) -> QuerySet:
    return _with_total(_open_cases(user).filter(owned_or_member_q(user)).order_by("severity_rank", "detected_at", "pk"))


def _updates_to_approve(user) -> QuerySet:
    return (IncidentUpdate.objects.drafts().filter(case__in=visible_cases(user)).exclude(author=user)
            .select_related("case", "author").order_by("created_at")[:LIMIT])


def _reviews_to_approve(user) -> QuerySet:
    return (PostIncidentReview.objects.filter(case__in=visible_cases(user), approved_at__isnull=True).exclude(author=user)
            .select_related("case", "author").order_by("updated_at")[:LIMIT])


def _public_reviews_to_approve(user) -> QuerySet:
    return (PublishedReview.objects.drafts().filter(case__in=visible_cases(user)).exclude(author=user)
            .select_related("case", "author").order_by("updated_at")[:LIMIT])


def _notices_to_approve(user) -> QuerySet:
    return (OutOfBandNotice.objects.filter(row__case__in=visible_cases(user), approved_at__isnull=True).exclude(recorded_by=user)
            .select_related("row__case", "row__organization", "recorded_by").order_by("recorded_at")[:LIMIT])


# Distinctive values no real row has: the user's id and the times are the queries' only parameters.
_PLACEHOLDERS = {"user_id": -760_001, "now": datetime(1901, 1, 1, 1, 1, 1, tzinfo=UTC),
                 "due_before": datetime(1901, 2, 2, 2, 2, 2, tzinfo=UTC)}
_OTHERS = {"user_id": -770_001, "now": datetime(1902, 3, 3, 3, 3, 3, tzinfo=UTC),
           "due_before": datetime(1902, 4, 4, 4, 4, 4, tzinfo=UTC)}

_QUERIES = {
    "per_stage": (_per_stage, ()), "unowned": (_unowned, ()), "alert_groups": (_alert_groups, ()),
    "breaches": (_breaches, ("now",)), "late_notices": (_late_notices, ("now",)), "my_tasks": (_my_tasks, ("due_before",)),
    "my_cases": (_my_cases, ()), "updates": (_updates_to_approve, ()), "reviews": (_reviews_to_approve, ()),
    "public_reviews": (_public_reviews_to_approve, ()), "notices": (_notices_to_approve, ()),
}
_prepared: dict[tuple, PreparedQuery] = {}


def _running_clocks(**case_ids) -> QuerySet:
    """Return the clocks still running of the cases ``case_0`` … ``case_19`` (the breaches shown), soonest due first."""
    return Deadline.objects.filter(met_at__isnull=True, case_id__in=list(case_ids.values())).order_by("due_at", "pk")


# The breaches shown are at most ``LIMIT`` cases: one parameter each, so the query is always the same SQL.
_CASE_SLOTS = [f"case_{i}" for i in range(LIMIT)]
_RUNNING_CLOCKS = PreparedQuery(_running_clocks, placeholders={slot: -780_001 - i for i, slot in enumerate(_CASE_SLOTS)},
                                others={slot: -790_001 - i for i, slot in enumerate(_CASE_SLOTS)})


def _attach_running_clocks(cases: list) -> None:
    """Set ``running_clocks`` on each case, soonest due first (the cases are ones the viewer may see)."""
    if not cases:
        return
    ids = [case.pk for case in cases]
    clocks = {pk: [] for pk in ids}
    # A shorter page repeats its first case in the unused parameters: ``IN`` ignores the repeats.
    for clock in _RUNNING_CLOCKS.objects(**dict(zip(_CASE_SLOTS, ids + ids[:1] * (LIMIT - len(ids))))):
        clocks[clock.case_id].append(clock)
    for case in cases:
        case.running_clocks = clocks[case.pk]


def role_query(name, role: tuple, build, times: tuple = ()) -> PreparedQuery:
    """Return the query ``name`` (any hashable) for viewers of ``role``, compiled on first use in this process.

    ``build(viewer, **times)`` returns the queryset for ``viewer``; run the query with ``user_id`` and the
    ``times`` it names (``now``, ``due_before``). Other apps' dashboard panels use it too (the dead deliveries).
    """
    query = _prepared.get((name, role))
    if query is None:
        names = ("user_id", *times)
        query = _prepared.setdefault((name, role), PreparedQuery(
            lambda *, user_id, **values: build(stand_in_viewer(role, user_id), **values),
            placeholders={key: _PLACEHOLDERS[key] for key in names}, others={key: _OTHERS[key] for key in names},
            optional=("user_id",)))
    return query


def _query(name: str, role: tuple) -> PreparedQuery:
    """Return the query ``name`` for viewers of ``role``, compiled on first use in this process."""
    build, times = _QUERIES[name]
    return role_query(name, role, build, times)


def dashboard(user, *, now=None) -> dict:
    """Return the dashboard's queues for ``user``: every row one they may know about."""
    now = now or timezone.now()
    if not is_staff_user(user):  # ``visible_cases`` knows no case of theirs: nothing to read
        per_stage, queues, approvals = {}, {name: Queue([], 0) for name in
                                            ("unowned", "alert_groups", "breaches", "late_notices", "my_tasks", "my_cases")}, []
    else:
        role = staff_role(user)
        per_stage = dict(_query("per_stage", role).rows(user_id=user.pk))
        queues = {
            "unowned": _queue(_query("unowned", role).objects(user_id=user.pk)),
            "alert_groups": _queue(_query("alert_groups", role).objects(user_id=user.pk)),
            "breaches": _queue(_query("breaches", role).objects(user_id=user.pk, now=now)),
            "late_notices": _queue(_query("late_notices", role).objects(user_id=user.pk, now=now)),
            "my_tasks": _queue(_query("my_tasks", role).objects(user_id=user.pk, due_before=now + TASK_DUE_WITHIN)),
            "my_cases": _queue(_query("my_cases", role).objects(user_id=user.pk)),
        }
        _attach_running_clocks(queues["breaches"].rows)
        approvals = awaiting_approval(user, role=role)
    return {
        "now": now,
        **queues,
        "approvals": approvals,
        "dead_deliveries": hooks.dead_deliveries(user, LIMIT),
        "open_stages": [(s, label, per_stage.get(s, 0)) for s, label in Case.Status.choices if s not in Case.FINISHED],
        "finished_stages": [(s, label, per_stage.get(s, 0)) for s, label in Case.Status.choices if s in Case.FINISHED],
    }


@dataclass
class Approval:
    """One draft awaiting the viewer's approval, as the dashboard lists it."""

    what: str
    case: Case
    title: str
    by: object
    at: object
    anchor: str

    @property
    def url(self) -> str:
        return f"{self.case.get_absolute_url()}#{self.anchor}"


def awaiting_approval(user, *, role: tuple) -> list[Approval]:
    """Return what ``user`` may approve and did not make: customer updates, both reviews and out-of-band notices.

    Who may approve on a case is ``cases.access.permissions.can_approve_case_text`` (what
    ``ensure_may_approve`` asks): on the cases the user may see, a manager or a communications
    reviewer. Most severe case first, then oldest draft; at most ``LIMIT`` of each kind.
    """
    if not (can_approve_communication(user) or is_manager(user)):
        return []
    updates, reviews, public, notices = (_query(name, role).objects(user_id=user.pk)
                                         for name in ("updates", "reviews", "public_reviews", "notices"))
    items = [
        *(Approval("Customer update", u.case, u.public_title, u.author, u.created_at, "comms-h") for u in updates),
        *(Approval("Post-incident review", r.case, "Internal review", r.author, r.updated_at, "review-h") for r in reviews),
        *(Approval("Customer review", r.case, r.title, r.author, r.updated_at, "comms-h") for r in public),
        *(Approval("Out-of-band notice", n.row.case, f"{n.row.organization}: {n.get_channel_display().lower()} reaching {n.person_reached}",
                   n.recorded_by, n.recorded_at, "customers-h") for n in notices),
    ]
    return sorted(items, key=lambda item: (SEVERITY_RANK.get(item.case.severity, len(SEVERITY_RANK)), item.at))


def _next_clock(*, now) -> QuerySet:
    return Deadline.objects.filter(case__in=Case.objects.open(), due_at__gte=now).order_by("due_at").values_list("due_at")[:1]


def _next_task(*, user_id, due_before) -> QuerySet:
    return (Task.objects.open().filter(assignee_id=user_id, case__in=Case.objects.open(), due_at__gt=due_before)
            .order_by("due_at").values_list("due_at")[:1])


_NEXT_CLOCK = PreparedQuery(_next_clock, placeholders={"now": _PLACEHOLDERS["now"]}, others={"now": _OTHERS["now"]})
_NEXT_TASK = PreparedQuery(_next_task, placeholders={key: _PLACEHOLDERS[key] for key in ("user_id", "due_before")},
                           others={key: _OTHERS[key] for key in ("user_id", "due_before")})


def next_change(user, *, now) -> datetime | None:
    """Return the first moment from ``now`` at which time alone changes what the queues hold or their order.

    A clock falling due (a breach turns overdue, an organisation's notice turns late) or one of the user's
    tasks coming within ``TASK_DUE_WITHIN``. Counted over every open case, not only those the user may
    see: an earlier moment only renders the page once more. Two queries, compiled once per process.
    """
    moments = [row[0] for row in _NEXT_CLOCK.rows(now=now)]
    moments += [row[0] - TASK_DUE_WITHIN for row in _NEXT_TASK.rows(user_id=user.pk, due_before=now + TASK_DUE_WITHIN)]
    return min(moments, default=None)
