"""The customer portal. Pages render only customer-visible models and the reader's own impact."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Exists, Max, OuterRef, Prefetch
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from cases.access.lookups import get_incident_for
from cases.access.permissions import is_customer, is_customer_admin
from cases.access.querysets import customer_incidents
from cases.models import Acknowledgement, IncidentUpdate
from cases.models.communications import CustomerStatus
from cases.selectors import reports
from cases.services.breach import record_incident_page_view
from cases.services.communications import acknowledge


def _customers(view, *, admins_only: bool = False):
    """Let in customer users (only their organisation's administrators when ``admins_only``); staff go to their dashboard."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not is_customer(request.user):
            return redirect("cases:dashboard")
        if admins_only and not is_customer_admin(request.user):
            raise PermissionDenied("Only your organisation's administrators manage its settings.")
        return view(request, *args, **kwargs)

    return wrapper


def _customer_only(view):
    return _customers(view)


def customer_admin_only(view):
    """Let in the customer administrators; other customers get a 403, staff go to their dashboard."""
    return _customers(view, admins_only=True)


@_customer_only
def index(request):
    """List the incidents affecting the reader's organisation, newest first, with their status."""
    incidents = (
        customer_incidents(request.user)
        .annotate(last_published=Max("updates__published_at"),
                  acknowledged=Exists(Acknowledgement.objects.filter(case=OuterRef("pk"), user=request.user)))
        .order_by("-last_published")
        .prefetch_related(
            Prefetch("updates", queryset=IncidentUpdate.objects.published().order_by("-published_at"),
                     to_attr="published_updates")
        )
    )
    rows = [{"case": case, "latest": case.published_updates[0], "acknowledged": case.acknowledged} for case in incidents]
    return render(request, "portal/index.html", {"organization": request.user.organization, "rows": rows,
                                                 "unacknowledged": sum(not row["acknowledged"] for row in rows)})


@_customer_only
def incident(request, reference):
    """Show the incident page; its body is rendered once per timeline head and organisation.

    Thousands of customers open the same page during a large breach. Every change to
    anything customer-visible appends a timeline event, which moves ``timeline_head``, so the
    cache key changes exactly when the content does.
    """
    case = get_incident_for(request.user, reference)
    record_incident_page_view(case=case, user=request.user)
    organization = request.user.organization
    key = f"portal:incident:{case.pk}:{organization.pk}:{case.timeline_head}"
    cached = cache.get(key)
    if cached is None:
        cached = _incident_body(case, organization)
        cache.set(key, cached, timeout=BODY_CACHE_SECONDS)
    context = {
        "reference": case.reference,
        "organization": organization,
        "latest": cached["latest"],
        "body": mark_safe(cached["html"]),  # noqa: S308 - rendered by our own template with escaping on
        "notified_at": cached.get("notified_at"),
        "status_meanings": [(code, label, STATUS_MEANINGS[code]) for code, label in CustomerStatus.choices],
        "acknowledged": Acknowledgement.objects.filter(case=case, user=request.user).first(),
    }
    return render(request, "portal/incident.html", context)


BODY_CACHE_SECONDS = 600

# What each status word on an incident page means, by ``CustomerStatus`` code (templates test codes).
STATUS_MEANINGS = {
    CustomerStatus.INVESTIGATING: "We know something is wrong and are finding out what happened and who is affected.",
    CustomerStatus.IDENTIFIED: "We know the cause and what was affected, and are working to stop it and repair it.",
    CustomerStatus.MONITORING: "A fix is in place; we are watching to make sure it holds.",
    CustomerStatus.RESOLVED: "The incident is over. A post-incident review follows when there is something to learn.",
}


def _incident_body(case, organization) -> dict:
    # The same reads as the customer report: one privacy filter for the page, the PDF and the pack.
    context = reports.customer_report(case, organization)
    latest, impact = context["latest"], context["impact"]
    return {
        "html": render_to_string("portal/partials/incident_body.html", context),
        "latest": {
            "public_title": latest.public_title,
            "status": latest.status,
            "status_label": latest.get_status_display(),
            "published_at": latest.published_at,
        },
        # The organisation's own awareness time: a delivered breach notice starts its own clocks.
        "notified_at": impact.notified_at if impact is not None and impact.is_breach else None,
    }


@require_POST
@_customer_only
def acknowledge_incident(request, reference):
    case = get_incident_for(request.user, reference)
    acknowledge(case=case, user=request.user)
    messages.success(request, "Thank you: your acknowledgement is recorded.")
    return redirect("portal:incident", reference=case.reference)
