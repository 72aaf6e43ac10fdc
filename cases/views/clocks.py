"""Clock actions on a case: record a decision, a submission, or a manager's reason to close anyway."""

from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from cases.access.lookups import get_case_for
from cases.selectors import clocks as selectors_clocks
from cases.forms.clocks import CloseOverrideForm, DecisionForm, SubmissionForm
from cases.models import Deadline
from cases.services import clocks
from cases.views.helpers import form_errors_to_messages, run_service, staff_required


@staff_required
@require_POST
def record_decision(request, reference):
    case = get_case_for(request.user, reference, write=True)
    form = DecisionForm(request.POST)
    if form.is_valid():
        run_service(request, clocks.record_decision, success="Decision recorded; its clocks are running.",
                    case=case, by=request.user, **form.cleaned_data)
    else:
        form_errors_to_messages(request, form)
    return redirect(case)


@staff_required
@require_POST
def record_submission(request, reference, deadline_id):
    case = get_case_for(request.user, reference, write=True)
    deadline = get_object_or_404(Deadline, pk=deadline_id, case=case)
    form = SubmissionForm(request.POST, case=case)
    if form.is_valid():
        run_service(request, clocks.record_submission, success="Submission recorded; the clock is met.",
                    deadline=deadline, by=request.user, **form.cleaned_data)
    else:
        form_errors_to_messages(request, form)
    return redirect(case)


@staff_required
@require_POST
def close_override(request, reference, deadline_id):
    case = get_case_for(request.user, reference, write=True)
    deadline = get_object_or_404(Deadline, pk=deadline_id, case=case)
    form = CloseOverrideForm(request.POST)
    if form.is_valid():
        run_service(request, clocks.override_for_close, success="Reason recorded; this clock no longer blocks closing.",
                    deadline=deadline, by=request.user, reason=form.cleaned_data["reason"])
    else:
        form_errors_to_messages(request, form)
    return redirect(case)


def case_panel_context(case) -> dict:
    """Return what the case page's clocks panel needs (included by ``pages.case_detail``)."""
    context = selectors_clocks.case_clocks(case)
    return {**context, "decision_form": DecisionForm(initial={"kind": (context["clock_decision_defaults"] or [""])[0]}),
            "submission_form": SubmissionForm(case=case), "override_form": CloseOverrideForm()}
