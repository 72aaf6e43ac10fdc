"""Staff pages for what customers read: drafting and approving updates, the customer review, repairs."""

from django.core.exceptions import BadRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from cases.access.lookups import get_case_for
from cases.forms.cases import CorrectionForm, IncidentUpdateForm, PublishedReviewForm, RepairItemForm, RepairStatusForm
from cases.models import IncidentUpdate, PublishedReview, RepairItem
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
    form = IncidentUpdateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        if run_service(
            request, communications.draft_update, success="Update drafted. Someone else must approve it before customers see it.",
            case=case, by=request.user, corrects=corrects, **form.cleaned_data,
        ):
            return redirect(case)
    return render(request, "cases/update_form.html", {"case": case, "form": form, "corrects": corrects},
                  status=400 if request.method == "POST" else 200)


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


public_review_approve = case_action(communications.approve_published_review, write=False, success="Customer review published.",
                                    row=CaseRow(PublishedReview, "review"))
repair_add = case_action(communications.add_repair_item, form=RepairItemForm, success="Repair item added.")
repair_status = case_action(communications.set_repair_status, form=RepairStatusForm, success="Repair item updated.",
                            invalid="Choose planned, in progress or done.", row=CaseRow(RepairItem, "item", url_kwarg="item_id"))
