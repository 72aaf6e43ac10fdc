"""Reads for the staff pages, each a fixed number of queries whatever the data size."""

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from cases.access.permissions import can_approve_communication, is_manager

from cases.access.querysets import visible_cases
from cases.models import AffectedCustomer, Case, Deadline, IncidentUpdate, OutOfBandNotice, Task, TimelineEvent


def case_list(user, *, filters: dict) -> QuerySet:
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
    elif owner == "none":
        queryset = queryset.filter(owner__isnull=True)
    breach = filters.get("breach")
    if breach == "yes":
        queryset = queryset.filter(breach_declared_at__isnull=False)
    elif breach == "no":
        queryset = queryset.filter(breach_declared_at__isnull=True)
    query = (filters.get("q") or "").strip()
    if query:
        queryset = queryset.filter(Q(reference__icontains=query) | Q(title__icontains=query))
    return queryset.order_by("-detected_at", "-id")


def dashboard(user) -> dict:
    visible = visible_cases(user)
    open_cases = visible.open()
    per_stage = dict(visible.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    now = timezone.now()
    return {
        "my_cases": list(open_cases.filter(owner=user).select_related("owner").order_by("-detected_at")[:20]),
        "stages": [(status, label, per_stage.get(status, 0)) for status, label in Case.Status.choices],
        "deadlines": list(
            Deadline.objects.filter(case__in=visible, met_at__isnull=True).select_related("case").order_by("due_at")[:10]
        ),
        "recent": list(
            TimelineEvent.objects.filter(case__in=visible).select_related("case").order_by("-at", "-id")[:15]
        ),
        "now": now,
        "awaiting_approval": awaiting_approval(user),
    }


def case_detail(case: Case) -> Case:
    """Return the case with everything its page shows, loaded in a bounded number of queries."""
    return (
        Case.objects.select_related(
            "owner", "created_by", "duplicate_of", "review", "review__author", "review__approved_by",
            "published_review", "published_review__author",
        )
        .prefetch_related(
            "affected_services",
            Prefetch("tasks", queryset=Task.objects.select_related("assignee", "done_by", "skipped_by")),
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
            Prefetch("timeline", queryset=TimelineEvent.objects.select_related("actor").order_by("-sequence")),
        )
        .get(pk=case.pk)
    )


def awaiting_approval(user) -> list:
    """Return drafts of customer-visible text that this user may approve (not their own)."""
    if not (can_approve_communication(user) or is_manager(user)):
        return []
    visible = visible_cases(user)
    return list(
        IncidentUpdate.objects.drafts().filter(case__in=visible)
        .exclude(author=user)
        .select_related("case", "author")
        .order_by("created_at")[:20]
    )
