"""POST-only endpoints that change a case. Each validates a form, calls one service, redirects."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from cases.access.permissions import can_manage_case

from cases.access.lookups import get_case_for
from cases.forms.cases import (
    AffectedCustomerEditForm,
    AffectedCustomerForm,
    DeclareBreachForm,
    DelayRequestForm,
    MemberForm,
    NoteForm,
    OutOfBandNoticeForm,
    OwnerForm,
    ReasonForm,
    TaskForm,
    TransitionForm,
)
from cases.models import AffectedCustomer, Deadline, DeadlineDelay, OutOfBandNotice, Task, User
from cases.services import breach, clocks, lifecycle, notices, review, tasks, timeline
from cases.services import cases as case_services
from cases.views.helpers import form_errors_to_messages, run_service, staff_required, submit_form


@staff_required
@require_POST
def transition(request, reference, action):
    case = get_case_for(request.user, reference)
    if action not in lifecycle.ACTIONS:
        messages.error(request, "There is no such action.")
        return redirect(case)
    form = TransitionForm(request.POST, user=request.user)
    if not form.is_valid():
        form_errors_to_messages(request, form)
        return redirect(case)
    data = form.cleaned_data
    extra = {}
    if action == "dismiss":
        extra = {"reason": data["dismissal_reason"], "duplicate_of": data["duplicate_of"]}
    label = lifecycle.ACTIONS[action].label
    run_service(
        request, lifecycle.run_action, success=f"{label}: done.",
        action_name=action, case=case, by=request.user, note=data["note"], expected_version=data["version"], **extra,
    )
    return redirect(case)


@staff_required
@require_http_methods(["GET", "POST"])
def declare_breach(request, reference):
    case = get_case_for(request.user, reference, write=True)
    form = DeclareBreachForm(request.POST or None, initial={"version": case.version},
                             regime_defaults=clocks.default_decisions(case))
    if request.method == "POST" and form.is_valid():
        # Refused or not, the answer is on the case page; only an invalid form stays here.
        run_service(
            request, breach.declare_breach, success="Breach declared. The customer-notice clock is running.",
            case=case, by=request.user, note=form.cleaned_data["note"], expected_version=form.cleaned_data["version"],
            regimes=form.cleaned_data["regimes"],
        )
        return redirect(case)
    affected = case.affected_customers.active().select_related("organization")
    return render(
        request,
        "cases/declare_breach.html",
        {"case": case, "form": form, "affected": affected, "blockers": case.declare_breach_blockers(),
         "can_manage": can_manage_case(case, request.user)},
        status=400 if request.method == "POST" else 200,
    )


@staff_required
@require_POST
def set_owner(request, reference):
    case = get_case_for(request.user, reference, write=True)
    submit_form(request, OwnerForm(request.POST), case_services.assign_owner, success="Owner updated.", case=case, by=request.user)
    return redirect(case)


@staff_required
@require_POST
def add_member(request, reference):
    case = get_case_for(request.user, reference, write=True)
    submit_form(request, MemberForm(request.POST), case_services.add_member, success="Member added.", case=case, by=request.user)
    return redirect(case)


@staff_required
@require_POST
def remove_member(request, reference, username):
    case = get_case_for(request.user, reference, write=True)
    user = get_object_or_404(User, username=username)
    run_service(request, case_services.remove_member, success="Member removed.", case=case, by=request.user, user=user)
    return redirect(case)


@staff_required
@require_POST
def add_note(request, reference):
    case = get_case_for(request.user, reference, write=True)
    submit_form(request, NoteForm(request.POST), timeline.add_note, success="Note added.", case=case, by=request.user)
    return redirect(case)


@staff_required
@require_POST
def add_task(request, reference):
    case = get_case_for(request.user, reference, write=True)
    submit_form(request, TaskForm(request.POST), tasks.add_task, success="Task added.", case=case, by=request.user)
    return redirect(case)


@staff_required
@require_POST
def toggle_task(request, reference, task_id):
    case = get_case_for(request.user, reference, write=True)
    task = get_object_or_404(Task, pk=task_id, case=case)
    if task.is_done:
        run_service(request, tasks.reopen_task, success="Task reopened.", task=task, by=request.user)
    else:
        run_service(request, tasks.complete_task, success="Task done.", task=task, by=request.user)
    return redirect(case)


def _warn_without_impact(request, data) -> None:
    if not (data["data_lost"] or data["data_altered"] or data["data_disclosed"]):
        messages.warning(request, "No data impact is ticked: this customer will not count as breached "
                                  "and gets no breach notice. Tick lost, altered or disclosed if their data was affected.")


@staff_required
@require_POST
def add_customer(request, reference):
    case = get_case_for(request.user, reference, write=True)
    form = AffectedCustomerForm(request.POST)
    if submit_form(request, form, breach.add_affected_customer,
                   success="Affected customer added. It awaits confirmation by an incident manager or Communications.",
                   case=case, by=request.user):
        _warn_without_impact(request, form.cleaned_data)
    return redirect(case)


@staff_required
@require_POST
def edit_customer(request, reference, row_id):
    case = get_case_for(request.user, reference, write=True)
    row = get_object_or_404(AffectedCustomer, pk=row_id, case=case)
    form = AffectedCustomerEditForm(request.POST)
    if submit_form(request, form, breach.edit_affected_customer, success=f"{row.organization} updated.", row=row, by=request.user):
        _warn_without_impact(request, form.cleaned_data)
    return redirect(case)


@staff_required
@require_POST
def confirm_customer(request, reference, row_id):
    case = get_case_for(request.user, reference)
    row = get_object_or_404(AffectedCustomer, pk=row_id, case=case)
    run_service(request, breach.confirm_affected_customer, success=f"{row.organization} confirmed.", row=row, by=request.user)
    return redirect(case)


@staff_required
@require_POST
def withdraw_customer(request, reference, row_id):
    case = get_case_for(request.user, reference, write=True)
    row = get_object_or_404(AffectedCustomer, pk=row_id, case=case)
    withdrawn = submit_form(request, ReasonForm(request.POST), breach.withdraw_affected_customer,
                            success=f"{row.organization} withdrawn; their access is revoked.",
                            invalid="Say why this customer is no longer considered affected.", row=row, by=request.user)
    if withdrawn and withdrawn.exposure:
        messages.warning(request, f"{row.organization} saw or received this incident while it had access: "
                                  "a mandatory privacy-event task was added.")
    return redirect(case)


@staff_required
@require_POST
def record_notice(request, reference, row_id):
    case = get_case_for(request.user, reference, write=True)
    row = get_object_or_404(AffectedCustomer, pk=row_id, case=case)
    submit_form(request, OutOfBandNoticeForm(request.POST), notices.record_out_of_band_notice,
                success="Out-of-band notice recorded; someone else must approve it before it counts.", row=row, by=request.user)
    return redirect(case)


@staff_required
@require_POST
def approve_notice(request, reference, notice_id):
    case = get_case_for(request.user, reference)
    notice = get_object_or_404(OutOfBandNotice, pk=notice_id, row__case=case)
    run_service(request, notices.approve_out_of_band_notice, success="Out-of-band notice approved.", notice=notice, by=request.user)
    return redirect(case)


@staff_required
@require_POST
def request_delay(request, reference, deadline_id):
    case = get_case_for(request.user, reference, write=True)
    deadline = get_object_or_404(Deadline, pk=deadline_id, case=case)
    submit_form(request, DelayRequestForm(request.POST), breach.request_deadline_delay,
                success="Delay requested; another manager must approve it.", deadline=deadline, by=request.user)
    return redirect(case)


@staff_required
@require_POST
def approve_delay(request, reference, delay_id):
    case = get_case_for(request.user, reference, write=True)
    delay = get_object_or_404(DeadlineDelay, pk=delay_id, deadline__case=case)
    run_service(request, breach.approve_deadline_delay, success="Delay approved.", delay=delay, by=request.user)
    return redirect(case)


@staff_required
@require_POST
def approve_review(request, reference):
    case = get_case_for(request.user, reference)
    run_service(request, review.approve_review, success="Review approved.", case=case, by=request.user)
    return redirect(case)
