"""Action items on a case."""

from django.db import transaction
from django.utils import timezone

from cases.access.permissions import is_staff_user
from cases.models.exceptions import ActionRefused
from cases.models import Case, Task, TimelineEvent
from cases.services.timeline import append_event, lock_for_work, lock_row_for_work


def _refuse_mandatory_work_on_closed(case: Case) -> None:
    # Closing requires every mandatory task done; an open one on a closed case would break that promise.
    if case.status == Case.Status.CLOSED:
        raise ActionRefused("The case is closed; reopen it before adding mandatory work.")


@transaction.atomic
def add_task(*, case: Case, by, title: str, assignee=None, due_at=None, mandatory: bool = False) -> Task:
    locked = lock_for_work(case, by)
    title = title.strip()
    if not title:
        raise ActionRefused("Give the task a title.")
    if assignee is not None and not is_staff_user(assignee):
        raise ActionRefused("Tasks are assigned to members of the response team only.")
    if mandatory:
        _refuse_mandatory_work_on_closed(locked)
    task = Task.objects.create(
        case=locked, title=title, assignee=assignee, due_at=due_at, mandatory=mandatory, created_by=by
    )
    append_event(
        case=locked,
        actor=by,
        kind=TimelineEvent.Kind.TASK_ADDED,
        text=f"Task added{' (mandatory)' if mandatory else ''}: {title}",
        data={"task": task.pk, "assignee": assignee.get_username() if assignee else None, "mandatory": mandatory},
    )
    return task


@transaction.atomic
def complete_task(*, task: Task, by) -> Task:
    locked, task = lock_row_for_work(task, by)
    if task.is_done:
        raise ActionRefused("This task is already done.")
    if task.is_skipped:
        raise ActionRefused("This playbook step was skipped; the deviation stays on the record.")
    task.done_at = timezone.now()
    task.done_by = by
    task.save(update_fields=["done_at", "done_by"])
    append_event(case=locked, actor=by, kind=TimelineEvent.Kind.TASK_DONE, text=f"Task done: {task.title}", data={"task": task.pk})
    return task


@transaction.atomic
def reopen_task(*, task: Task, by) -> Task:
    locked, task = lock_row_for_work(task, by)
    if not task.is_done:
        raise ActionRefused("This task is still open.")
    if task.mandatory:
        _refuse_mandatory_work_on_closed(locked)
    task.done_at = None
    task.done_by = None
    task.save(update_fields=["done_at", "done_by"])
    append_event(
        case=locked, actor=by, kind=TimelineEvent.Kind.TASK_REOPENED, text=f"Task reopened: {task.title}", data={"task": task.pk}
    )
    return task
