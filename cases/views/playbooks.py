"""Playbook pages (managers keep them, staff read them) and the playbook actions on a case."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from cases.access.permissions import is_manager

from cases.access.lookups import get_case_for
from cases.selectors import playbooks as selectors_playbooks
from cases.forms.playbooks import ApplyPlaybookForm, CriteriaForm, PlaybookForm, SkipStepForm, StepFormSet
from cases.models import Playbook, Task
from cases.services import playbooks
from cases.views.helpers import CaseRow, case_action, cleaned_or_messages, run_service, staff_required


@staff_required
def playbook_list(request):
    return render(request, "cases/playbooks/list.html", {
        "playbooks": selectors_playbooks.playbook_list(), "can_edit": is_manager(request.user),
    })


@staff_required
def playbook_detail(request, slug):
    playbook = get_object_or_404(Playbook, slug=slug)
    number = request.GET.get("version", "")
    context = selectors_playbooks.playbook_detail(playbook, int(number) if number.isdigit() else None)
    return render(request, "cases/playbooks/detail.html", {**context, "can_edit": is_manager(request.user)})


def _manager_required(user) -> None:
    if not is_manager(user):
        raise PermissionDenied("Only incident managers keep playbooks.")


def _step_initial(version) -> list[dict]:
    if version is None:
        return []
    return [{name: getattr(step, name) for name in playbooks.STEP_FIELDS} for step in version.steps.all()]


@staff_required
@require_http_methods(["GET", "POST"])
def playbook_edit(request, slug=None):
    """Create a playbook, or edit one: a version any case followed is kept, and a new version is saved."""
    _manager_required(request.user)
    playbook = get_object_or_404(Playbook, slug=slug) if slug else None
    version = playbook.current_version if playbook else None
    data = request.POST if request.method == "POST" else None
    form = PlaybookForm(data, instance=playbook, prefix="playbook")
    criteria = CriteriaForm(data, instance=version, prefix="criteria")
    steps = StepFormSet(data, initial=_step_initial(version), prefix="steps")
    if request.method == "POST" and form.is_valid() and criteria.is_valid() and steps.is_valid():
        step_rows = [row for row in steps.cleaned_data if row and not row.get("DELETE")]
        saved = run_service(
            request, playbooks.save_playbook, success="Playbook saved.", by=request.user, playbook=playbook,
            slug=form.cleaned_data["slug"], name=form.cleaned_data["name"], purpose=form.cleaned_data["purpose"],
            auto_apply=form.cleaned_data["auto_apply"],
            criteria={name: criteria.cleaned_data[name] or ("" if name != "affected_service" else None)
                      for name in criteria.Meta.fields},
            steps=[{key: row[key] for key in playbooks.STEP_FIELDS} for row in step_rows],
        )
        if saved:
            return redirect(saved.playbook)
    context = {"playbook": playbook, "version": version, "form": form, "criteria": criteria, "steps": steps}
    return render(request, "cases/playbooks/edit.html", context, status=400 if request.method == "POST" else 200)


@staff_required
@require_POST
def apply(request, reference):
    case = get_case_for(request.user, reference, write=True)
    data = cleaned_or_messages(request, ApplyPlaybookForm(request.POST))
    if data is not None:
        run_service(request, playbooks.apply_playbook, success=f"Playbook {data['version']} applied.",
                    case=case, version=data["version"], by=request.user)
    return redirect(case)


skip_step = case_action(playbooks.skip_step, form=SkipStepForm, row=CaseRow(Task, "task", url_kwarg="task_id"),
                        success="Step skipped; the deviation is recorded.")


def case_panel_context(case) -> dict:
    """Return what the case page's playbook panel needs (included by ``pages.case_detail``)."""
    return {**selectors_playbooks.case_playbook(case), "apply_form": ApplyPlaybookForm(), "skip_form": SkipStepForm()}
