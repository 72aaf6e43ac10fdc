"""Background tasks (Django Tasks API): one per delivery, a fan-out, and the periodic sweep.

Each task calls a service; services queue tasks through ``notifications.services.queue``.
"""

from uuid import UUID

from django_tasks import task

from cases.services import queue
from notifications.services import delivery
from notifications.services import queue as notification_queue
from notifications.services.queue import DELIVER, FAN_OUT, SWEEP


@queue.register(DELIVER)
@task()
def deliver_task(delivery_id: str) -> str:
    return delivery.deliver(UUID(delivery_id))


@queue.register(FAN_OUT)
@task()
def fan_out_task(notification_id: int) -> int:
    """Queue one delivery task per pending external delivery of a notification."""
    return notification_queue.fan_out(notification_id)


@queue.register(SWEEP)
@task()
def sweep_task() -> dict:
    """Run the sweeper, then queue the next run (a periodic task without a scheduler)."""
    result = delivery.sweep()
    notification_queue.schedule_sweep()
    return result
