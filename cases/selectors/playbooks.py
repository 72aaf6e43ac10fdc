"""Reads for the playbook pages and the playbook panel of the case page."""

from django.db.models import Prefetch

from cases.models import Case, Playbook, PlaybookStep, PlaybookVersion, Task
from cases.models.playbooks import WORKING_STAGES
from cases.services.playbooks import current_versions, deviations, suggest_playbook


def case_playbook(case: Case) -> dict:
    """Return what the case page shows of the playbook: version, suggestion, this stage's steps, deviations."""
    version = (
        PlaybookVersion.objects.select_related("playbook").get(pk=case.playbook_version_id)
        if case.playbook_version_id else None
    )
    stage_tasks = []
    if version is not None and case.status in WORKING_STAGES:
        stage_tasks = list(
            Task.objects.filter(case=case, step__version=version, step__stage=case.status)
            .select_related("step", "skipped_by", "done_by").order_by("step__order", "id")
        )
    versions = current_versions() if case.is_open else []
    suggestion = suggest_playbook(case, versions=versions) if versions else None
    return {
        "playbook_version": version,
        "playbook_suggestion": suggestion if suggestion and suggestion.pk != case.playbook_version_id else None,
        "playbook_stage_tasks": stage_tasks,
        # Skipped tasks only: the case page reads its tasks in windows, not all at once.
        "playbook_deviations": list(deviations(case)),
        "playbook_choices": [v for v in versions if v.pk != case.playbook_version_id],
    }


def playbook_list() -> list[Playbook]:
    return list(Playbook.objects.prefetch_related(
        Prefetch("versions", queryset=PlaybookVersion.objects.select_related("affected_service", "created_by"))
    ))


def playbook_detail(playbook: Playbook, number: int | None = None) -> dict:
    versions = list(playbook.versions.select_related("created_by", "affected_service").order_by("-number"))
    shown = next((v for v in versions if v.number == number), None) if number else (versions[0] if versions else None)
    steps = list(PlaybookStep.objects.filter(version=shown)) if shown else []
    stages = [
        (Case.Status(stage).label, [step for step in steps if step.stage == stage]) for stage in WORKING_STAGES
    ]
    return {"playbook": playbook, "versions": versions, "version": shown, "stages": stages,
            "cases_following": shown.cases.count() if shown else 0}
