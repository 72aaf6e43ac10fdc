"""Background tasks (Django Tasks API): a delivery, a batch of them, a notification's drain, a fan-out, the periodic sweep.

Each task calls a service; services queue tasks through ``notifications.services.queue``.
"""

from uuid import UUID

from django_tasks import task

from cases.services import queue
from notifications.services import delivery
from notifications.services import queue as notification_queue
from notifications.services.queue import DELIVER, DELIVER_MANY, DRAIN, FAN_OUT, SWEEP


@queue.register(DELIVER)
@task()
def deliver_task(delivery_id: str) -> str:
    return delivery.deliver(UUID(delivery_id))


@queue.register(DELIVER_MANY)
@task()
def deliver_many_task(delivery_ids: list[str]) -> int:
    """Attempt the due ones of these deliveries as one batch; return how many were attempted."""
    return len(delivery.deliver_batch(ids=[UUID(pk) for pk in delivery_ids], limit=len(delivery_ids)))


@queue.register(DRAIN)
@task()
def drain_task(notification_id: int, channel: str = "email") -> int:
    """Work a notification's due emails (or webhooks) batch by batch; return how many were attempted."""
    return delivery.drain(notification_id=notification_id, channel=channel)


@queue.register(FAN_OUT)
@task()
def fan_out_task(notification_id: int) -> int:
    """Queue the drains and webhook tasks of a large notification."""
    return notification_queue.fan_out(notification_id)


@queue.register(SWEEP)
@task()
def sweep_task() -> dict:
    """Run the sweeper, then queue the next run (a periodic task without a scheduler)."""
    result = delivery.sweep()
    notification_queue.schedule_sweep()
    return result
