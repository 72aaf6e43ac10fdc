"""Queue background tasks by name, so no service imports the task module that calls it.

A task module (``cases/tasks.py``, ``notifications/tasks.py``) imports the services its tasks run
and registers each task here; services enqueue through this module. The imports then point one
way, tasks → services → queue, where a task that re-queues itself would otherwise close a cycle.
The apps import their task modules in ``AppConfig.ready``, so every process has them registered.
"""

import logging

from django_tasks import default_task_backend

logger = logging.getLogger(__name__)

_tasks: dict = {}


def register(name: str):
    """Return a decorator that registers a ``@task`` under ``name``."""
    def decorator(task_):
        _tasks[name] = task_
        return task_

    return decorator


def get(name: str):
    """Return the task registered under ``name``."""
    try:
        return _tasks[name]
    except KeyError:
        raise LookupError(f"No task is registered as {name!r}; is its app installed?") from None


def can_defer() -> bool:
    """Return whether the task backend can hold a task until a given time (``run_after``)."""
    return default_task_backend.supports_defer


def enqueue(name: str, *args, run_after=None) -> bool:
    """Queue one task; return whether it was queued. A failure is logged, never raised.

    Callers queue on commit and have a repair for a task that never ran (the notification
    sweeper, or a person asking again), so the change that caused it stands either way.
    """
    task_ = get(name)
    if run_after is not None and can_defer():
        task_ = task_.using(run_after=run_after)
    try:
        task_.enqueue(*args)
    except Exception:  # noqa: BLE001 - see the docstring
        logger.exception("Could not queue the task %s%r", name, args)
        return False
    return True
