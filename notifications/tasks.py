"""Background tasks (Django Tasks API): one per delivery, a fan-out, and the periodic sweep."""

import logging
from datetime import timedelta
from uuid import UUID

from django.conf import settings
from django.utils import timezone
from django_tasks import task

logger = logging.getLogger(__name__)


def can_defer() -> bool:
    return deliver_task.get_backend().supports_defer


@task()
def deliver_task(delivery_id: str) -> str:
    from notifications.services.delivery import deliver

    return deliver(UUID(delivery_id))


@task()
def fan_out_task(notification_id: int) -> int:
    """Queue one delivery task per pending external delivery of a notification."""
    from notifications.models import Delivery

    ids = list(Delivery.objects.filter(notification_id=notification_id, status=Delivery.Status.PENDING)
               .exclude(channel=Delivery.Channel.INBOX).values_list("pk", flat=True))
    enqueue_deliveries(ids)
    return len(ids)


@task()
def sweep_task() -> dict:
    """Run the sweeper, then queue the next run (a periodic task without a scheduler)."""
    from notifications.services.delivery import sweep

    result = sweep()
    schedule_sweep()
    return result


def enqueue_deliveries(ids, *, run_after=None) -> None:
    """Queue one task per delivery; a failure here is repaired by the sweeper, not raised."""
    task_ = deliver_task.using(run_after=run_after) if run_after is not None and can_defer() else deliver_task
    for delivery_id in ids:
        try:
            task_.enqueue(str(delivery_id))
        except Exception:  # noqa: BLE001 - the sweeper queues it again later
            logger.exception("Could not queue delivery %s; the sweeper will", delivery_id)


def enqueue_fan_out(notification_id: int) -> None:
    try:
        fan_out_task.enqueue(notification_id)
    except Exception:  # noqa: BLE001
        logger.exception("Could not queue the fan-out of notification %s; the sweeper will", notification_id)


def schedule_sweep() -> bool:
    """Queue the next sweep unless one is already waiting; return whether one was queued."""
    if not can_defer():
        return False
    try:
        from django_tasks_db.models import DBTaskResult

        if DBTaskResult.objects.filter(task_path=sweep_task.module_path, status="READY").exists():
            return False
    except ImportError:  # another backend that defers: its own deduplication applies
        pass
    sweep_task.using(run_after=timezone.now() + timedelta(seconds=settings.IRT_NOTIFY_SWEEP_SECONDS)).enqueue()
    return True
