"""Clock actions on a case: record a decision, a submission, or a manager's reason to close anyway."""

from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from cases.access.lookups import get_case_for
from cases.selectors import clocks as selectors_clocks
from cases.forms.clocks import CloseOverrideForm, DecisionForm, SubmissionForm
from cases.models import Deadline
from cases.services import clocks
from cases.views.helpers import staff_required, submit_form


@staff_required
@require_POST
def record_decision(request, reference):
    case = get_case_for(request.user, reference, write=True)
    submit_form(request, DecisionForm(request.POST), clocks.record_decision,
                success="Decision recorded; its clocks are running.", case=case, by=request.user)
    return redirect(case)


@staff_required
@require_POST
def record_submission(request, reference, deadline_id):
    case = get_case_for(request.user, reference, write=True)
    deadline = get_object_or_404(Deadline, pk=deadline_id, case=case)
    submit_form(request, SubmissionForm(request.POST, case=case), clocks.record_submission,
                success="Submission recorded; the clock is met.", deadline=deadline, by=request.user)
    return redirect(case)


@staff_required
@require_POST
def close_override(request, reference, deadline_id):
    case = get_case_for(request.user, reference, write=True)
    deadline = get_object_or_404(Deadline, pk=deadline_id, case=case)
    submit_form(request, CloseOverrideForm(request.POST), clocks.override_for_close,
                success="Reason recorded; this clock no longer blocks closing.", deadline=deadline, by=request.user)
    return redirect(case)


def case_panel_context(case) -> dict:
    """Return what the case page's clocks panel needs (included by ``pages.case_detail``)."""
    context = selectors_clocks.case_clocks(case)
    return {**context, "decision_form": DecisionForm(initial={"kind": (context["clock_decision_defaults"] or [""])[0]}),
            "submission_form": SubmissionForm(case=case), "override_form": CloseOverrideForm()}
