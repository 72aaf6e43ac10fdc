"""Reads for the staff dashboard: what is on fire, in a fixed number of queries whatever the data size.

Each queue is the rows shown (at most ``LIMIT``) and how many there are in all. Case queues go
most severe first, then oldest first; a clock that has run out puts its case at the top.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Case as CaseWhen
from django.db.models import Count, Exists, IntegerField, Min, OuterRef, Prefetch, Q, QuerySet, Subquery, Value, When
from django.utils import timezone

from cases.access.permissions import can_approve_communication, is_manager
from cases.access.querysets import owned_or_member_q, visible_cases
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


def _queue(queryset: QuerySet, limit: int = LIMIT) -> Queue:
    return Queue(rows=list(queryset[:limit]), total=queryset.count())


def dashboard(user, *, now=None) -> dict:
    """Return the dashboard's queues for ``user``: every row one they may know about."""
    now = now or timezone.now()
    visible = visible_cases(user)
    open_cases = visible.open().annotate(severity_rank=severity_rank()).select_related("owner")
    per_stage = dict(visible.order_by().values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
    return {
        "now": now,
        "unowned": _queue(open_cases.filter(owner__isnull=True).order_by("severity_rank", "detected_at", "pk")),
        "alert_groups": _queue(triage_queue(user)),
        "breaches": _queue(_breaches(open_cases, now)),
        "late_notices": _queue(late_notices(visible, now)),
        "my_tasks": _queue(
            Task.objects.open().filter(assignee=user, due_at__lte=now + TASK_DUE_WITHIN, case__in=visible.open())
            .select_related("case").order_by("due_at", "pk")
        ),
        "approvals": awaiting_approval(user),
        "dead_deliveries": hooks.dead_deliveries(user, LIMIT),
        "my_cases": _queue(open_cases.filter(owned_or_member_q(user)).order_by("severity_rank", "detected_at", "pk")),
        "open_stages": [(s, label, per_stage.get(s, 0)) for s, label in Case.Status.choices if s not in Case.FINISHED],
        "finished_stages": [(s, label, per_stage.get(s, 0)) for s, label in Case.Status.choices if s in Case.FINISHED],
    }


def _breaches(open_cases: QuerySet, now) -> QuerySet:
    """Return open cases with a declared breach or a running clock: overdue first, then most severe, then oldest."""
    running = Deadline.objects.filter(met_at__isnull=True)
    return (
        open_cases.filter(Q(breach_declared_at__isnull=False) | Exists(running.filter(case=OuterRef("pk"))))
        .annotate(next_due=Min("deadlines__due_at", filter=Q(deadlines__met_at__isnull=True)))
        .annotate(overdue=CaseWhen(When(next_due__lt=now, then=Value(0)), default=Value(1), output_field=IntegerField()))
        .prefetch_related(Prefetch("deadlines", queryset=running.order_by("due_at", "pk"), to_attr="running_clocks"))
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


def awaiting_approval(user, limit: int = LIMIT) -> list[Approval]:
    """Return what ``user`` may approve and did not make: customer updates, both reviews and out-of-band notices.

    Who may approve on a case is ``cases.access.permissions.can_approve_case_text`` (what
    ``ensure_may_approve`` asks): on the cases the user may see, a manager or a communications
    reviewer. Most severe case first, then oldest draft.
    """
    if not (can_approve_communication(user) or is_manager(user)):
        return []
    visible = visible_cases(user)
    updates = IncidentUpdate.objects.drafts().filter(case__in=visible).exclude(author=user).select_related("case", "author")
    reviews = PostIncidentReview.objects.filter(case__in=visible, approved_at__isnull=True).exclude(author=user).select_related("case", "author")
    public = PublishedReview.objects.drafts().filter(case__in=visible).exclude(author=user).select_related("case", "author")
    notices = (
        OutOfBandNotice.objects.filter(row__case__in=visible, approved_at__isnull=True).exclude(recorded_by=user)
        .select_related("row__case", "row__organization", "recorded_by")
    )
    items = [
        *(Approval("Customer update", u.case, u.public_title, u.author, u.created_at, "comms-h") for u in updates.order_by("created_at")[:limit]),
        *(Approval("Post-incident review", r.case, "Internal review", r.author, r.updated_at, "review-h") for r in reviews.order_by("updated_at")[:limit]),
        *(Approval("Customer review", r.case, r.title, r.author, r.updated_at, "comms-h") for r in public.order_by("updated_at")[:limit]),
        *(Approval("Out-of-band notice", n.row.case, f"{n.row.organization}: {n.get_channel_display().lower()} reaching {n.person_reached}",
                   n.recorded_by, n.recorded_at, "customers-h") for n in notices.order_by("recorded_at")[:limit]),
    ]
    return sorted(items, key=lambda item: (SEVERITY_RANK.get(item.case.severity, len(SEVERITY_RANK)), item.at))
