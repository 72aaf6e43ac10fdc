"""Staff pages for what customers read: drafting and approving updates, the customer review, repairs."""

from django.core.exceptions import BadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from cases.access.lookups import get_case_for
from cases.forms.cases import CorrectionForm, IncidentUpdateForm, PublishedReviewForm, RepairItemForm, RepairStatusForm
from cases.models import IncidentUpdate, PublishedReview, RepairItem
from cases.services import communications
from cases.views.helpers import run_service, staff_required, submit_form


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


@staff_required
@require_POST
def update_approve(request, reference, update_id):
    case = get_case_for(request.user, reference)
    update = get_object_or_404(IncidentUpdate, pk=update_id, case=case)
    run_service(request, communications.approve_update, success="Update published to the affected customers.", update=update, by=request.user)
    return redirect(case)


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
@require_POST
def public_review_approve(request, reference):
    case = get_case_for(request.user, reference)
    review = get_object_or_404(PublishedReview, case=case)
    run_service(request, communications.approve_published_review, success="Customer review published.", review=review, by=request.user)
    return redirect(case)


@staff_required
@require_POST
def repair_add(request, reference):
    case = get_case_for(request.user, reference, write=True)
    submit_form(request, RepairItemForm(request.POST), communications.add_repair_item, success="Repair item added.",
                case=case, by=request.user)
    return redirect(case)


@staff_required
@require_POST
def repair_status(request, reference, item_id):
    case = get_case_for(request.user, reference, write=True)
    item = get_object_or_404(RepairItem, pk=item_id, case=case)
    submit_form(request, RepairStatusForm(request.POST), communications.set_repair_status, success="Repair item updated.",
                invalid="Choose planned, in progress or done.", item=item, by=request.user)
    return redirect(case)
