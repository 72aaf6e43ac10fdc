"""Queueing delivery work: the one place services hand deliveries and sweeps to the worker.

A task that went missing (the queue was down, the process died before commit hooks ran) is
queued again by the sweeper, so nothing here raises.
"""

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from cases.services import queue
from notifications.models import Delivery

DELIVER = "notifications.deliver"
FAN_OUT = "notifications.fan_out"
SWEEP = "notifications.sweep"

can_defer = queue.can_defer


def enqueue_deliveries(ids, *, run_after=None) -> None:
    """Queue one delivery task per id (held until ``run_after`` when the backend can defer)."""
    for delivery_id in ids:
        queue.enqueue(DELIVER, str(delivery_id), run_after=run_after)


def enqueue_fan_out(notification_id: int) -> None:
    """Queue the task that queues every pending external delivery of a large notification."""
    queue.enqueue(FAN_OUT, notification_id)


def fan_out(notification_id: int) -> int:
    """Queue one delivery task per pending external delivery of a notification; return how many."""
    ids = list(Delivery.objects.filter(notification_id=notification_id, status=Delivery.Status.PENDING)
               .exclude(channel=Delivery.Channel.INBOX).values_list("pk", flat=True))
    enqueue_deliveries(ids)
    return len(ids)


def schedule_sweep() -> bool:
    """Queue the next sweep unless one is already waiting; return whether one was queued."""
    if not can_defer():
        return False
    sweep_task = queue.get(SWEEP)
    # Only the database backend's rows can be seen here; another backend that defers keeps its own.
    if DBTaskResult.objects.filter(task_path=sweep_task.module_path, status="READY").exists():
        return False
    sweep_task.using(run_after=timezone.now() + timedelta(seconds=settings.IRT_NOTIFY_SWEEP_SECONDS)).enqueue()
    return True


# -- the database queue's own rows (only the database backend keeps any we can read) ----

READY, RUNNING, FAILED = "READY", "RUNNING", "FAILED"
WORKER_LOST = "notifications.services.queue.WorkerLost"


def _queue_in_database() -> bool:
    return isinstance(task_backends[DEFAULT_TASK_BACKEND_ALIAS], DatabaseBackend)


def waiting_delivery_ids(candidates, *, running_since) -> set[str]:
    """Return which of the ``candidates`` (delivery ids) already have a task waiting or running.

    A task counts while it is ready (queued, perhaps held by an outage), or running and started
    after ``running_since``; an older running task belongs to a worker presumed dead. With another
    backend nothing can be seen, so nothing counts (the sweeper then queues as before).
    """
    wanted = {str(pk) for pk in candidates}
    if not wanted or not _queue_in_database():
        return set()
    rows = DBTaskResult.objects.filter(task_path=queue.get(DELIVER).module_path).filter(
        Q(status=READY) | Q(status=RUNNING, started_at__gt=running_since)).values_list("args_kwargs", flat=True)
    waiting = set()
    for args_kwargs in rows.iterator():
        args = (args_kwargs or {}).get("args") or []
        if args and str(args[0]) in wanted:
            waiting.add(str(args[0]))
    return waiting


def reclaim_stuck_tasks(*, started_before) -> int:
    """Mark tasks still running since before ``started_before`` as failed; return how many.

    A worker killed mid-task (``kill -9``, a lost database) leaves its row ``RUNNING`` for ever.
    The work behind each of our tasks is owned elsewhere (a delivery's lease, the next sweep), so
    ending the row is all a reclaim needs; the delivery is queued again by the sweep itself.
    """
    if not _queue_in_database():
        return 0
    now = timezone.now()
    return DBTaskResult.objects.filter(status=RUNNING, started_at__lt=started_before).update(
        status=FAILED, finished_at=now, exception_class_path=WORKER_LOST,
        traceback=f"Reclaimed by the sweeper at {now:%Y-%m-%d %H:%M:%S} UTC: the worker stopped while running this task.",
    )
