"""Staff pages of alert triage: the queue, a group with its alerts, an observable's sightings."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from cases.access.permissions import can_triage_alerts

from cases.access.lookups import get_case_for
from cases.selectors import alerts as selectors_alerts
from cases.forms.alerts import AttachForm, DismissForm, PromoteForm, QueueFilterForm
from cases.models import AlertGroup, Observable
from cases.services import triage
from cases.views.helpers import cleaned_or_messages, run_service, staff_required, submit_form

PAGE_SIZE = 50


def _get_group_for(user, group_id: int) -> AlertGroup:
    """Return the group, or 404 when it is tied to a case the user may not know."""
    group = selectors_alerts.visible_groups(user).select_related("case", "handled_by").filter(pk=group_id).first()
    if group is None:
        raise Http404("No such alert group.")
    return group


def _group_to_triage(user, group_id: int) -> AlertGroup:
    """Return the group for a triage action: 404 when the user may not know it, 403 when they may not triage."""
    group = _get_group_for(user, group_id)
    if not can_triage_alerts(user):
        raise PermissionDenied("Only responders and incident managers triage alerts.")
    return group


@staff_required
def queue(request):
    form = QueueFilterForm(request.GET or None)
    status = form.cleaned_data["status"] if form.is_valid() else AlertGroup.Status.NEW
    if not request.GET:
        status = AlertGroup.Status.NEW
    page = Paginator(selectors_alerts.triage_queue(request.user, status=status), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "cases/alerts/queue.html", {"form": form, "page": page, "status": status, "query": query.urlencode(),
                                                        "ungrouped": selectors_alerts.awaiting_correlation()})


@staff_required
def group_detail(request, group_id):
    group = _get_group_for(request.user, group_id)
    alerts = selectors_alerts.group_alerts(group)
    observables = {observable.pk: observable for alert in alerts for observable in alert.observables.all()}
    context = {
        "group": group,
        "alerts": alerts,
        "observables": sorted(observables.values(), key=lambda o: (o.kind, o.value)),
        "candidates": selectors_alerts.candidate_customers(group=group),
        "can_triage": can_triage_alerts(request.user) and group.is_waiting,
        "promote_form": PromoteForm(),
        "attach_form": AttachForm(),
        "dismiss_form": DismissForm(),
    }
    return render(request, "cases/alerts/group_detail.html", context)


@staff_required
@require_POST
def promote(request, group_id):
    group = _group_to_triage(request.user, group_id)
    case = submit_form(request, PromoteForm(request.POST), triage.promote_group, success="", group=group, by=request.user)
    if not case:
        return redirect(group)
    messages.success(request, f"{case.reference} opened from {group.alert_count} alert(s).")
    return redirect(case)


@staff_required
@require_POST
def attach(request, group_id):
    group = _group_to_triage(request.user, group_id)
    data = cleaned_or_messages(request, AttachForm(request.POST))
    if data is None:
        return redirect(group)
    case = get_case_for(request.user, data["case"], write=True)
    if run_service(request, triage.attach_group, success=f"Alerts attached to {case.reference}.", group=group, case=case, by=request.user):
        return redirect(case)
    return redirect(group)


@staff_required
@require_POST
def dismiss(request, group_id):
    group = _group_to_triage(request.user, group_id)
    if submit_form(request, DismissForm(request.POST), triage.dismiss_group, success="Alert group dismissed.", group=group, by=request.user):
        return redirect("alerts:queue")
    return redirect(group)


@staff_required
def observable_detail(request, observable_id):
    observable = Observable.objects.filter(pk=observable_id).first()
    if observable is None:
        raise Http404("No such observable.")
    context = {"observable": observable, **selectors_alerts.observable_sightings(request.user, observable)}
    return render(request, "cases/alerts/observable_detail.html", context)
