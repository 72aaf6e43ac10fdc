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
DELIVER_MANY = "notifications.deliver_many"
DRAIN = "notifications.drain"
FAN_OUT = "notifications.fan_out"
SWEEP = "notifications.sweep"

can_defer = queue.can_defer


def enqueue_deliveries(ids, *, run_after=None, together: bool = True) -> None:
    """Queue tasks for deliveries (held until ``run_after`` when the backend can defer).

    ``together``: one task per ``IRT_NOTIFY_BATCH_SIZE`` ids, worked as one batch (a batch's
    webhooks are sent concurrently, so a slow receiver holds one request, not the batch);
    otherwise one task per id.
    """
    ids = [str(pk) for pk in ids]
    if not together or len(ids) == 1:
        for delivery_id in ids:
            queue.enqueue(DELIVER, delivery_id, run_after=run_after)
        return
    size = settings.IRT_NOTIFY_BATCH_SIZE
    for start in range(0, len(ids), size):
        queue.enqueue(DELIVER_MANY, ids[start:start + size], run_after=run_after)


def enqueue_fan_out(notification_id: int) -> None:
    """Queue the task that queues the work of a large notification."""
    queue.enqueue(FAN_OUT, notification_id)


def enqueue_drain(notification_id: int, *, channel: str = Delivery.Channel.EMAIL) -> None:
    """Queue one task that works a notification's due emails (or webhooks), batch after batch."""
    if channel == Delivery.Channel.EMAIL:
        queue.enqueue(DRAIN, notification_id)
    else:
        queue.enqueue(DRAIN, notification_id, str(channel))


def fan_out(notification_id: int) -> int:
    """Queue the work of a large notification; return how many tasks were queued.

    Its emails and its webhooks: ``IRT_NOTIFY_DRAIN_TASKS`` drain tasks each, whatever their number
    (the fan-out costs the same for 100 organisations as for 100,000; as many workers as there are
    drains share it). A webhook drain keeps a pool of requests in flight, so a slow receiver holds
    one request and never the others' notices.
    """
    pending = Delivery.objects.filter(notification_id=notification_id, status=Delivery.Status.PENDING)
    queued = 0
    for channel in (Delivery.Channel.EMAIL, Delivery.Channel.WEBHOOK):
        if pending.filter(channel=channel).exists():
            for _ in range(settings.IRT_NOTIFY_DRAIN_TASKS):
                enqueue_drain(notification_id, channel=channel)
            queued += settings.IRT_NOTIFY_DRAIN_TASKS
    return queued


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
    """Return which of the ``candidates`` (``(delivery id, notification id, channel)``) already have a task.

    A task counts while it is ready (queued, perhaps held by an outage), or running and started
    after ``running_since``; an older running task belongs to a worker presumed dead. A delivery
    has a task when one names it, or, for an email, when a drain of its notification waits or
    runs (an email drain for emails, a webhook drain for webhooks). With another backend nothing can be seen, so nothing counts (the sweeper then queues
    as before).
    """
    candidates = [(str(pk), notification, channel) for pk, notification, channel in candidates]
    if not candidates or not _queue_in_database():
        return set()
    paths = {queue.get(name).module_path: name for name in (DELIVER, DELIVER_MANY, DRAIN)}
    rows = DBTaskResult.objects.filter(task_path__in=list(paths)).filter(
        Q(status=READY) | Q(status=RUNNING, started_at__gt=running_since)).values_list("task_path", "args_kwargs")
    named, drained = set(), set()  # drained: (notification id, channel)
    for path, args_kwargs in rows.iterator():
        args = (args_kwargs or {}).get("args") or []
        if not args:
            continue
        if paths[path] == DELIVER:
            named.add(str(args[0]))
        elif paths[path] == DELIVER_MANY:
            named.update(str(pk) for pk in args[0])
        else:
            drained.add((args[0], args[1] if len(args) > 1 else Delivery.Channel.EMAIL))
    return {pk for pk, notification, channel in candidates if pk in named or (notification, channel) in drained}


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
