"""The customer portal. Pages render only customer-visible models and the reader's own impact."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Max, Prefetch
from django.core.cache import cache
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from cases.access.permissions import is_customer

from cases.access.querysets import customer_incidents

from cases.access.lookups import get_incident_for
from cases.models import Acknowledgement, AffectedCustomer, IncidentUpdate, PublishedReview, RepairItem
from cases.services.breach import record_incident_page_view
from cases.services.communications import acknowledge


def _customer_only(view):
    @login_required
    def wrapper(request, *args, **kwargs):
        if not is_customer(request.user):
            return redirect("cases:dashboard")
        return view(request, *args, **kwargs)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


@_customer_only
def index(request):
    """List the incidents affecting the reader's organisation, newest first, with their status."""
    incidents = (
        customer_incidents(request.user)
        .annotate(last_published=Max("updates__published_at"))
        .order_by("-last_published")
        .prefetch_related(
            Prefetch("updates", queryset=IncidentUpdate.objects.published().order_by("-published_at"),
                     to_attr="published_updates")
        )
    )
    rows = [{"case": case, "latest": case.published_updates[0]} for case in incidents]
    return render(request, "portal/index.html", {"organization": request.user.organization, "rows": rows})


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
        "acknowledged": Acknowledgement.objects.filter(case=case, user=request.user).first(),
    }
    return render(request, "portal/incident.html", context)


BODY_CACHE_SECONDS = 600


def _incident_body(case, organization) -> dict:
    updates = list(
        IncidentUpdate.objects.published().filter(case=case)
        .select_related("corrects")
        .order_by("-published_at", "-id")
    )
    review = PublishedReview.objects.published().filter(case=case).first()
    context = {
        "organization": organization,
        "latest": updates[0],
        "updates": updates,
        "impact": AffectedCustomer.objects.impact_seen_by(case=case, organization=organization),
        "review": review,
        "repairs": list(RepairItem.objects.filter(case=case)) if review else [],
    }
    latest = updates[0]
    return {
        "html": render_to_string("portal/partials/incident_body.html", context),
        "latest": {
            "public_title": latest.public_title,
            "status": latest.status,
            "status_label": latest.get_status_display(),
            "published_at": latest.published_at,
        },
    }


@require_POST
@_customer_only
def acknowledge_incident(request, reference):
    case = get_incident_for(request.user, reference)
    acknowledge(case=case, user=request.user)
    messages.success(request, "Thank you: your acknowledgement is recorded.")
    return redirect("portal:incident", reference=case.reference)
