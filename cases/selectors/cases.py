"""Reads for the staff pages, each a fixed number of queries whatever the data size."""

from django.db.models import Case as CaseWhen
from django.db.models import F, IntegerField, Prefetch, QuerySet, Value, When

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
    order = [f.desc(nulls_last=True) if sort.startswith("-") else f.asc(nulls_last=True) for f in fields]
    return queryset.annotate(severity_rank=severity_rank(), stage_rank=stage_rank()).order_by(*order, "-detected_at", "-id")


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
