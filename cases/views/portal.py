"""The customer portal. Pages render only customer-visible models and the reader's own impact."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Max, Prefetch
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from cases import access
from cases.models import Acknowledgement, AffectedCustomer, IncidentUpdate, PublishedReview, RepairItem
from cases.services.communications import acknowledge


def _customer_only(view):
    @login_required
    def wrapper(request, *args, **kwargs):
        if not access.is_customer(request.user):
            return redirect("cases:dashboard")
        return view(request, *args, **kwargs)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


@_customer_only
def index(request):
    """List the incidents affecting the reader's organisation, newest first, with their status."""
    incidents = (
        access.customer_incidents(request.user)
        .annotate(last_published=Max("updates__published_at"))
        .order_by("-last_published")
        .prefetch_related(
            Prefetch("updates", queryset=IncidentUpdate.objects.filter(published_at__isnull=False).order_by("-published_at"),
                     to_attr="published_updates")
        )
    )
    rows = [{"case": case, "latest": case.published_updates[0]} for case in incidents]
    return render(request, "portal/index.html", {"organization": request.user.organization, "rows": rows})


@_customer_only
def incident(request, reference):
    case = access.get_incident_for(request.user, reference)
    updates = list(
        IncidentUpdate.objects.filter(case=case, published_at__isnull=False)
        .select_related("corrects")
        .order_by("-published_at", "-id")
    )
    impact = AffectedCustomer.objects.filter(case=case, organization=request.user.organization).first()
    review = PublishedReview.objects.filter(case=case, published_at__isnull=False).first()
    context = {
        "reference": case.reference,
        "latest": updates[0],
        "updates": updates,
        "impact": impact,
        "review": review,
        "repairs": list(RepairItem.objects.filter(case=case)) if review else [],
        "acknowledged": Acknowledgement.objects.filter(case=case, user=request.user).first(),
    }
    return render(request, "portal/incident.html", context)


@require_POST
@_customer_only
def acknowledge_incident(request, reference):
    case = access.get_incident_for(request.user, reference)
    acknowledge(case=case, user=request.user)
    messages.success(request, "Thank you: your acknowledgement is recorded.")
    return redirect("portal:incident", reference=case.reference)
