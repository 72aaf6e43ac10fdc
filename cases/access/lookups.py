"""The lookups views use: 404 when the user may not know the object exists, 403 when they may not act."""

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from cases.access.permissions import can_view_case, can_work_on_case
from cases.access.querysets import customer_incidents
from cases.models import Case


def get_case_for(user, reference: str, *, write: bool = False, queryset: QuerySet | None = None):
    """Return the case the user asked for: 404 if they may not know it, 403 if they may not act."""
    queryset = queryset if queryset is not None else Case.objects.all()
    try:
        case = queryset.get(reference=reference)
    except Case.DoesNotExist:
        raise Http404("No such case.") from None
    if not can_view_case(user, case):
        raise Http404("No such case.")
    if write and not can_work_on_case(case, user):
        raise PermissionDenied("You can read this case but not change it.")
    return case


def get_incident_for(user, reference: str):
    """Return the case for a customer's incident page; 404 whenever they may not read it."""
    case = customer_incidents(user).filter(reference=reference).first()
    if case is None:
        raise Http404("No such incident.")
    return case
