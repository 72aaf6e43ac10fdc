"""Staff pages for what customers read: drafting and approving updates, the customer review, repairs."""

import copy

from django.core.exceptions import BadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from cases.access.lookups import get_case_for, get_case_for_drafts
from cases.access.permissions import can_approve_case_text, can_work_on_case
from cases.forms.cases import CorrectionForm, IncidentUpdateForm, PublishedReviewForm, RepairItemForm, RepairStatusForm
from cases.models import IncidentUpdate, PublishedReview, RepairItem
from cases.selectors import approvals
from cases.services import communications
from cases.views.helpers import CaseRow, case_action, run_service, staff_required


@staff_required
@require_http_methods(["GET", "POST"])
def update_new(request, reference):
    case = get_case_for(request.user, reference, write=True)
    choice = CorrectionForm({"corrects": request.POST.get("corrects") or request.GET.get("corrects") or ""}, case=case)
    if not choice.is_valid():
        raise BadRequest("There is no such published update of this case to correct.")
    corrects = choice.cleaned_data["corrects"]
    latest = case.updates.published().order_by("-published_at").first()
    source = corrects or latest
    initial = {name: getattr(source, name) for name in communications.UPDATE_FIELDS} if source else {
        "public_title": "", "affected_services": ", ".join(case.affected_services.values_list("name", flat=True)),
    }
    # Each update promises its own next update; the times the last one did not give come from the case.
    initial["next_update_by"] = None
    for name, case_field in communications.TIMES_FROM_CASE.items():
        initial[name] = initial.get(name) or getattr(case, case_field)
    form = IncidentUpdateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        if run_service(
            request, communications.draft_update, success="Update drafted. Someone else must approve it before customers see it.",
            case=case, by=request.user, corrects=corrects, **form.cleaned_data,
        ):
            return redirect(case)
    return render(request, "cases/update_form.html", {"case": case, "form": form, "corrects": corrects},
                  status=400 if request.method == "POST" else 200)


def approver_context(request, case, item) -> dict:
    """Return what every approval screen shows beside its text: may this user approve it, and who receives it."""
    return {
        "case": case,
        "can_approve": (item.published_at is None and can_approve_case_text(case, request.user)
                        and not item.made_by(request.user)),
        "can_edit": can_work_on_case(case, request.user),
    }


@staff_required
def update_review(request, reference, update_id):
    """Show an update in full as customers will read it, what it changes, who receives it, and the approve button."""
    case = get_case_for_drafts(request.user, reference)
    update = get_object_or_404(IncidentUpdate.objects.select_related("author", "approved_by", "corrects"), pk=update_id, case=case)
    previous, changes = approvals.update_changes(update, communications.UPDATE_FIELDS)
    breach_notice = bool(case.breach_declared_at) and not case.updates.published().filter(
        published_at__gte=case.breach_declared_at).exclude(pk=update.pk).exists()
    recipients = approvals.recipients(case, breach_notice=breach_notice)
    published = list(case.updates.published().exclude(pk=update.pk).select_related("corrects").order_by("-published_at", "-id"))
    first = case.affected_customers.confirmed().select_related("organization").order_by("organization__name").first()
    # Shown as it will read once approved now: a draft has no publication time of its own yet.
    as_published = copy.copy(update)
    as_published.published_at = as_published.published_at or timezone.now()
    preview = render_to_string("portal/partials/incident_body.html", {
        "organization": first.organization if first else None, "impact": first, "latest": as_published,
        "updates": [as_published, *published] if update.published_at is None else published,
    })
    return render(request, "cases/update_review.html", {
        **approver_context(request, case, update), "update": update, "previous": previous, "changes": changes,
        "recipients": recipients, "preview": preview, "preview_organization": first.organization if first else None,
        "breach_notice": breach_notice,
    })


update_approve = case_action(communications.approve_update, write=False, success="Update published to the affected customers.",
                             row=CaseRow(IncidentUpdate, "update", url_kwarg="update_id"))


@staff_required
@require_http_methods(["GET", "POST"])
def public_review_edit(request, reference):
    case = get_case_for(request.user, reference, write=True)
    review = PublishedReview.objects.filter(case=case).first()
    form = PublishedReviewForm(request.POST or None, instance=review)
    if request.method == "POST" and form.is_valid():
        if run_service(request, communications.save_published_review, success="Customer review saved; someone else must approve it.",
                       case=case, by=request.user, **form.cleaned_data):
            return redirect(case)
    return render(request, "cases/public_review_form.html", {"case": case, "form": form, "review": review},
                  status=400 if request.method == "POST" else 200)


@staff_required
def public_review_read(request, reference):
    """Show the customer review as its readers will see it, who receives it, and the approve button."""
    case = get_case_for_drafts(request.user, reference)
    review = get_object_or_404(PublishedReview.objects.select_related("author", "approved_by"), case=case)
    return render(request, "cases/public_review_read.html", {
        **approver_context(request, case, review), "review": review, "repairs": list(case.repair_items.all()),
        "recipients": approvals.recipients(case, breach_notice=False),
    })


public_review_approve = case_action(communications.approve_published_review, write=False, success="Customer review published.",
                                    row=CaseRow(PublishedReview, "review"))
repair_add = case_action(communications.add_repair_item, form=RepairItemForm, success="Repair item added.")
repair_status = case_action(communications.set_repair_status, form=RepairStatusForm, success="Repair item updated.",
                            invalid="Choose planned, in progress or done.", row=CaseRow(RepairItem, "item", url_kwarg="item_id"))
