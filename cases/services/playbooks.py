"""Playbooks in use: suggesting, applying, the step tasks of each stage, skips, and new versions.

Applying a playbook records the version on the case and creates the tasks of the current
stage's steps; entering a stage later creates that stage's step tasks (``enter_stage``, called
by the lifecycle for every transition). Applying another playbook later replaces the open step
tasks of the old one: they are withdrawn (deleted, their titles kept in the timeline event), while
done and skipped ones stay as the record of what was followed.
"""

from datetime import datetime

from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone

from cases.access.permissions import is_manager
from cases.models.exceptions import ActionRefused
from cases.models import Case, Playbook, PlaybookStep, PlaybookVersion, Task, TimelineEvent
from cases.models.playbooks import WORKING_STAGES
from cases.services.timeline import append_event, lock_for_work, lock_row_for_work


def current_versions() -> list[PlaybookVersion]:
    """Return the newest version of every playbook that has steps or criteria (two queries)."""
    playbooks = Playbook.objects.prefetch_related(
        Prefetch("versions", queryset=PlaybookVersion.objects.select_related("playbook", "affected_service"))
    )
    return [version for playbook in playbooks if (version := playbook.current_version) is not None]


def suggest_for(*, source="", severity="", classification="", breach_category="", service_ids=(),
                versions=None) -> PlaybookVersion | None:
    """Return the current version that matches best: most criteria met, then the playbook's name."""
    scored = []
    for version in current_versions() if versions is None else versions:
        score = version.match_score(
            classification=classification, breach_category=breach_category, source=source,
            severity=severity, service_ids=service_ids,
        )
        if score is not None:
            scored.append((-score, version.playbook.name, version))
    return min(scored, key=lambda row: row[:2])[2] if scored else None


def suggest_playbook(case: Case, *, versions=None) -> PlaybookVersion | None:
    """Return the playbook version that fits the case best, or None when none applies."""
    return suggest_for(
        source=case.source, severity=case.severity, classification=case.classification,
        breach_category=case.breach_category, service_ids=[s.pk for s in case.affected_services.all()],
        versions=versions,
    )


def _create_step_tasks(case: Case, by, *, entered_at: datetime) -> list[Task]:
    """Create the tasks of the current stage's steps that the case does not have yet."""
    if case.playbook_version_id is None or case.status not in WORKING_STAGES:
        return []
    have = set(case.tasks.filter(step__isnull=False).values_list("step_id", flat=True))
    steps = PlaybookStep.objects.filter(version_id=case.playbook_version_id, stage=case.status).exclude(pk__in=have)
    return Task.objects.bulk_create([
        Task(case=case, title=step.title, step=step, mandatory=step.mandatory, created_by=by,
             due_at=entered_at + step.due_offset if step.due_offset is not None else None)
        for step in steps.order_by("order", "id")
    ])


def enter_stage(*, case: Case, by) -> list[Task]:
    """Create the step tasks of the stage the case just entered. Call inside the transition's transaction."""
    tasks = _create_step_tasks(case, by, entered_at=timezone.now())
    if tasks:
        append_event(
            case=case, actor=by, kind=TimelineEvent.Kind.TASK_ADDED,
            text=f"Playbook steps for {case.get_status_display().lower()}: " + "; ".join(task.title for task in tasks),
            data={"tasks": [task.pk for task in tasks], "stage": case.status},
        )
    return tasks


def apply_to_locked_case(*, case: Case, version: PlaybookVersion, by) -> list[Task]:
    """Apply ``version`` to a case already locked and checked by the caller (see ``apply_playbook``)."""
    if not case.is_open:
        raise ActionRefused("The case is closed; a playbook is applied to open cases only.")
    if case.playbook_version_id == version.pk:
        raise ActionRefused(f"The case already follows {version}.")
    previous = case.playbook_version
    withdrawn = list(case.tasks.open().filter(step__isnull=False).exclude(step__version=version))
    Task.objects.filter(pk__in=[task.pk for task in withdrawn]).delete()
    # The version row lock orders this against save_playbook editing the same unfrozen version.
    version = PlaybookVersion.objects.select_for_update().select_related("playbook").get(pk=version.pk)
    if version.frozen_at is None:
        version.frozen_at = timezone.now()
        version.save(update_fields=["frozen_at"])
    case.playbook_version = version
    case.version += 1
    case.save(update_fields=["playbook_version", "version", "updated_at"])
    tasks = _create_step_tasks(case, by, entered_at=timezone.now())
    text = f"Playbook {version} applied" + (f", replacing {previous}" if previous else "") + "."
    if tasks:
        text += f" Steps for {case.get_status_display().lower()}: " + "; ".join(task.title for task in tasks) + "."
    if withdrawn:
        text += " Withdrawn open steps of the old playbook: " + "; ".join(task.title for task in withdrawn) + "."
    append_event(
        case=case, actor=by, kind=TimelineEvent.Kind.PLAYBOOK_APPLIED, text=text,
        data={"playbook": version.playbook.slug, "version": version.number,
              "previous": str(previous) if previous else None, "tasks": [task.pk for task in tasks],
              "withdrawn": [task.title for task in withdrawn]},
    )
    return tasks


@transaction.atomic
def apply_playbook(*, case: Case, version: PlaybookVersion, by) -> Case:
    """Make the case follow ``version`` and create the tasks of its current stage's steps."""
    locked = lock_for_work(case, by)
    apply_to_locked_case(case=locked, version=version, by=by)
    return locked


@transaction.atomic
def skip_step(*, task: Task, by, reason: str) -> Task:
    """Skip a playbook step task: an incident manager's recorded deviation from the procedure."""
    locked, task = lock_row_for_work(task, by, manage=True)
    reason = (reason or "").strip()
    if task.step_id is None:
        raise ActionRefused("Only playbook steps can be skipped; mark an ad hoc task done instead.")
    if task.is_done or task.is_skipped:
        raise ActionRefused("This step is no longer open.")
    if not reason:
        raise ActionRefused("Say why the step is skipped; the deviation is part of the record.")
    task.skipped_at = timezone.now()
    task.skipped_by = by
    task.skip_reason = reason
    task.save(update_fields=["skipped_at", "skipped_by", "skip_reason"])
    append_event(
        case=locked, actor=by, kind=TimelineEvent.Kind.STEP_SKIPPED,
        text=f"Playbook step skipped{' (mandatory)' if task.mandatory else ''}: {task.title}. Reason: {reason}",
        data={"task": task.pk, "step": task.step_id, "mandatory": task.mandatory, "reason": reason},
    )
    return task


def deviations(case: Case):
    """Return the skipped steps of the case, oldest first."""
    return case.tasks.filter(skipped_at__isnull=False).select_related("skipped_by", "step").order_by("skipped_at")


# -- keeping playbooks --------------------------------------------------------------------

STEP_FIELDS = ("stage", "order", "title", "guidance", "mandatory", "expected_role", "due_offset", "nist_function")


@transaction.atomic
def save_playbook(*, by, playbook: Playbook | None, name: str, purpose: str, auto_apply: bool,
                  criteria: dict, steps: list[dict], slug: str = "") -> PlaybookVersion:
    """Create or edit a playbook. A frozen current version is never changed: a new version is made.

    ``criteria`` holds ``PlaybookVersion.CRITERIA`` (blank = any); ``steps`` a dict per step with
    ``STEP_FIELDS``. Return the version that now holds the criteria and steps.
    """
    if not is_manager(by):
        raise ActionRefused("Only incident managers keep playbooks.")
    if not name.strip():
        raise ActionRefused("Give the playbook a name.")
    for step in steps:
        if step.get("stage") not in WORKING_STAGES:
            raise ActionRefused(f"Step “{step.get('title', '')}” needs a working stage.")
        if not (step.get("title") or "").strip():
            raise ActionRefused("Every step needs a title.")
    if playbook is None:
        if not slug or Playbook.objects.filter(slug=slug).exists():
            raise ActionRefused("Choose a short name for the address that no other playbook uses.")
        playbook = Playbook.objects.create(slug=slug, name=name.strip(), purpose=purpose.strip(), auto_apply=auto_apply)
        version = None
    else:
        playbook = Playbook.objects.select_for_update().get(pk=playbook.pk)
        playbook.name, playbook.purpose, playbook.auto_apply = name.strip(), purpose.strip(), auto_apply
        playbook.save(update_fields=["name", "purpose", "auto_apply"])
        version = PlaybookVersion.objects.select_for_update().filter(playbook=playbook).order_by("-number").first()
    unknown = set(criteria) - set(PlaybookVersion.CRITERIA)
    if unknown:
        raise ActionRefused(f"Unknown criteria: {', '.join(sorted(unknown))}.")
    if version is None or version.is_frozen:
        version = PlaybookVersion.objects.create(
            playbook=playbook, number=(version.number + 1) if version else 1, created_by=by, **criteria
        )
    else:
        for name_, value in criteria.items():
            setattr(version, name_, value)
        version.save()
        version.steps.all().delete()
    PlaybookStep.objects.bulk_create([
        PlaybookStep(version=version, **{key: step.get(key) for key in STEP_FIELDS if key in step}) for step in steps
    ])
    return version


@transaction.atomic
def copy_as_new_version(*, version: PlaybookVersion, by) -> PlaybookVersion:
    """Create the next version of the playbook with ``version``'s criteria and steps, to edit."""
    if not is_manager(by):
        raise ActionRefused("Only incident managers keep playbooks.")
    playbook = Playbook.objects.select_for_update().get(pk=version.playbook_id)
    last = playbook.versions.order_by("-number").first()
    new = PlaybookVersion.objects.create(
        playbook=playbook, number=last.number + 1, created_by=by,
        **{name: getattr(version, name) for name in PlaybookVersion.CRITERIA},
    )
    PlaybookStep.objects.bulk_create([
        PlaybookStep(version=new, **{key: getattr(step, key) for key in STEP_FIELDS}) for step in version.steps.all()
    ])
    return new
