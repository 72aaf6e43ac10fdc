"""Clock actions on a case: record a decision, a submission, or a manager's reason to close anyway."""

from cases.selectors import clocks as selectors_clocks
from cases.forms.clocks import CloseOverrideForm, DecisionForm, SubmissionForm
from cases.models import Deadline
from cases.services import clocks
from cases.views.helpers import CaseRow, case_action


DEADLINE = CaseRow(Deadline, "deadline", url_kwarg="deadline_id")

record_decision = case_action(clocks.record_decision, form=DecisionForm, success="Decision recorded; its clocks are running.")
record_submission = case_action(clocks.record_submission, form=SubmissionForm, form_takes_case=True, row=DEADLINE,
                                success="Submission recorded; the clock is met.")
close_override = case_action(clocks.override_for_close, form=CloseOverrideForm, row=DEADLINE,
                             success="Reason recorded; this clock no longer blocks closing.")


def case_panel_context(case) -> dict:
    """Return what the case page's clocks panel needs (included by ``pages.case_detail``)."""
    context = selectors_clocks.case_clocks(case)
    return {**context, "decision_form": DecisionForm(initial={"kind": (context["clock_decision_defaults"] or [""])[0]}),
            "submission_form": SubmissionForm(case=case), "override_form": CloseOverrideForm()}
