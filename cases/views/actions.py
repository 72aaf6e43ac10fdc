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
from cases.views.helpers import CaseRow, case_action, cleaned_or_messages, run_service, staff_required

AFFECTED_CUSTOMER = CaseRow(AffectedCustomer, "row", url_kwarg="row_id")


@staff_required
@require_POST
def transition(request, reference, action):
    case = get_case_for(request.user, reference)
    if action not in lifecycle.ACTIONS:
        messages.error(request, "There is no such action.")
        return redirect(case)
    data = cleaned_or_messages(request, TransitionForm(request.POST, user=request.user))
    if data is None:
        return redirect(case)
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
    form = DeclareBreachForm(request.POST or None, initial={"version": case.version}, case=case,
                             regime_defaults=clocks.default_decisions(case))
    if request.method == "POST" and form.is_valid():
        # Refused or not, the answer is on the case page; only an invalid form stays here.
        run_service(
            request, breach.declare_breach, success="Breach declared. The customer-notice clock is running. Next: draft the breach notice; "
                    "IRT sends it to the affected customers once someone else approves it.",
            case=case, by=request.user, note=form.cleaned_data["note"], expected_version=form.cleaned_data["version"],
            regimes=form.cleaned_data["regimes"], accept_conflicts=form.cleaned_data.get("accept_conflicts", False),
            **form.detail_changes(),
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


set_owner = case_action(case_services.assign_owner, form=OwnerForm, success="Owner updated.")
add_member = case_action(case_services.add_member, form=MemberForm, success="Member added.")
remove_member = case_action(case_services.remove_member, success="Member removed.",
                            row=CaseRow(User, "user", url_kwarg="username", lookup="username", case_path=""))
add_note = case_action(timeline.add_note, form=NoteForm, success="Note added.")
add_task = case_action(tasks.add_task, form=TaskForm, success="Task added.")


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


def _warn_without_impact(request, row, form) -> None:
    data = form.cleaned_data
    if not (data["data_lost"] or data["data_altered"] or data["data_disclosed"]):
        messages.warning(request, "No data impact is ticked: this customer will not count as breached "
                                  "and gets no breach notice. Tick lost, altered or disclosed if their data was affected.")


def _warn_of_exposure(request, row, form) -> None:
    if row.exposure:
        messages.warning(request, f"{row.organization} saw or received this incident while it had access: "
                                  "a mandatory privacy-event task was added.")


add_customer = case_action(
    breach.add_affected_customer, form=AffectedCustomerForm, follow_up=_warn_without_impact,
    success="Affected customer added. It awaits confirmation by an incident manager or Communications.",
)
edit_customer = case_action(breach.edit_affected_customer, form=AffectedCustomerEditForm, row=AFFECTED_CUSTOMER,
                            success="{row.organization} updated.", follow_up=_warn_without_impact)
confirm_customer = case_action(breach.confirm_affected_customer, row=AFFECTED_CUSTOMER, write=False,
                               success="{row.organization} confirmed.")
withdraw_customer = case_action(
    breach.withdraw_affected_customer, form=ReasonForm, row=AFFECTED_CUSTOMER, follow_up=_warn_of_exposure,
    success="{row.organization} withdrawn; their access is revoked.",
    invalid="Say why this customer is no longer considered affected.",
)
record_notice = case_action(notices.record_out_of_band_notice, form=OutOfBandNoticeForm, row=AFFECTED_CUSTOMER,
                            success="Out-of-band notice recorded; someone else must approve it before it counts.")
approve_notice = case_action(notices.approve_out_of_band_notice, write=False, success="Out-of-band notice approved.",
                             row=CaseRow(OutOfBandNotice, "notice", url_kwarg="notice_id", case_path="row__case"))
request_delay = case_action(breach.request_deadline_delay, form=DelayRequestForm,
                            row=CaseRow(Deadline, "deadline", url_kwarg="deadline_id"),
                            success="Delay requested; another manager must approve it.")
approve_delay = case_action(breach.approve_deadline_delay, success="Delay approved.",
                            row=CaseRow(DeadlineDelay, "delay", url_kwarg="delay_id", case_path="deadline__case"))
approve_review = case_action(review.approve_review, write=False, success="Review approved.")
