"""Queueing delivery work: the one place services hand deliveries and sweeps to the worker.

A task that went missing (the queue was down, the process died before commit hooks ran) is
queued again by the sweeper, so nothing here raises.
"""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
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
