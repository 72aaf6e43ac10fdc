"""Reads for the triage queue, alert groups, observables and the alert panel of a case.

Every read goes through the viewer: an alert group linked to a case the viewer may not know is
as invisible as the case (``tied_to_visible_case_q``), and "seen in other cases" lists
only cases from ``visible_cases``.
"""

from django.db.models import Count, Min, Prefetch, QuerySet

from cases.access.permissions import is_staff_user

from cases.access.prepared import PreparedQuery
from cases.access.querysets import tied_to_visible_case_q, visible_cases
from cases.models import Alert, AlertGroup, AlertResource, CaseObservable, Observable, Organization

SEEN_ELSEWHERE_LIMIT = 5


def visible_groups(user) -> QuerySet:
    if not is_staff_user(user):
        return AlertGroup.objects.none()
    return AlertGroup.objects.filter(tied_to_visible_case_q(user))


def awaiting_correlation() -> dict:
    """Count the alerts stored but not yet grouped (deferred intake) and say when the oldest arrived.

    They belong to no group yet, so no case and no customer: every staff member may know of them.
    """
    return Alert.objects.filter(group__isnull=True).aggregate(count=Count("id"), oldest=Min("received_at"))


def triage_queue(user, *, status: str = AlertGroup.Status.NEW) -> QuerySet:
    """Return the groups in the queue: most severe first, then oldest first."""
    queryset = visible_groups(user).select_related("case", "handled_by")
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by("severity_rank", "first_seen_at", "id")


def group_alerts(group: AlertGroup) -> list[Alert]:
    return list(
        group.alerts.order_by("observed_at", "id").prefetch_related(
            Prefetch("observables", queryset=Observable.objects.order_by("kind", "value")),
            Prefetch("resources", queryset=AlertResource.objects.order_by("id")),
        )
    )


def candidate_customers(*, case=None, group=None) -> list[Organization]:
    """Return organisations whose tenant ids the alerts' resources name: candidates, never grants."""
    resources = AlertResource.objects.exclude(tenant_id="")
    resources = resources.filter(alert__group__case=case) if case is not None else resources.filter(alert__group=group)
    return list(Organization.objects.filter(tenants__tenant_id__in=resources.values("tenant_id")).distinct().order_by("name"))


def seen_elsewhere(user, case, observable_ids) -> dict[int, list]:
    """Return, per observable, the other cases the viewer may see that share it (at most a few each)."""
    rows = (
        CaseObservable.objects.filter(observable_id__in=observable_ids, case__in=visible_cases(user).values("pk"))
        .exclude(case=case).select_related("case").order_by("-case__detected_at")
    )
    found: dict[int, list] = {}
    for row in rows[: SEEN_ELSEWHERE_LIMIT * 50]:
        cases = found.setdefault(row.observable_id, [])
        if len(cases) < SEEN_ELSEWHERE_LIMIT:
            cases.append(row.case)
    return found


# The two reads every case page makes, most of them finding nothing: compiled once per process (issue 18).
_CASE_GROUPS = PreparedQuery(lambda case_id: AlertGroup.objects.filter(case_id=case_id).order_by("first_seen_at", "pk"),
                             placeholders={"case_id": -793_001}, others={"case_id": -793_002})
_CASE_OBSERVABLES = PreparedQuery(
    lambda case_id: CaseObservable.objects.filter(case_id=case_id).select_related("observable").order_by("pk"),
    placeholders={"case_id": -794_001}, others={"case_id": -794_002})


def case_alert_panel(user, case) -> dict:
    """Return what the alert panel of a case page shows, in a fixed number of queries."""
    groups = _CASE_GROUPS.objects(case_id=case.pk)
    alerts = list(Alert.objects.filter(group__case=case).order_by("observed_at", "id")[:100]) if groups else []
    links = _CASE_OBSERVABLES.objects(case_id=case.pk)
    elsewhere = seen_elsewhere(user, case, [link.observable_id for link in links]) if links else {}
    affected = set(case.affected_customers.values_list("organization_id", flat=True)) if groups else set()
    candidates = candidate_customers(case=case) if groups else []
    return {
        "alert_groups": groups,
        "case_alerts": alerts,
        "case_observables": [(link.observable, elsewhere.get(link.observable_id, [])) for link in links],
        "candidate_customers": [(org, org.pk in affected) for org in candidates],
    }


def observable_sightings(user, observable: Observable) -> dict:
    return {
        "cases": list(visible_cases(user).filter(observables=observable).order_by("-detected_at")[:50]),
        "groups": list(
            visible_groups(user).filter(alerts__observables=observable).distinct().order_by("-last_seen_at")[:50]
        ),
    }
