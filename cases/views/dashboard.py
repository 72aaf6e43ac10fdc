"""The staff dashboard: the queues of what is on fire, most severe and oldest first."""

from django.shortcuts import render

from cases.access.permissions import can_open_cases, can_triage_alerts
from cases.selectors import dashboard as selectors
from cases.views.helpers import staff_required


@staff_required
def dashboard(request):
    context = selectors.dashboard(request.user)
    context["can_open"] = can_open_cases(request.user)
    context["can_triage"] = can_triage_alerts(request.user)
    return render(request, "cases/dashboard.html", context)
