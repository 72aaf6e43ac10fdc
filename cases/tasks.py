"""Background tasks of ``cases`` (Django Tasks API), run by the worker.

``cases.services.tasks`` is about action items on a case; this module is about the worker.
"""

import logging

from django_tasks import task

from cases.services import security

logger = logging.getLogger(__name__)


@task()
def send_password_reset_task(email: str) -> int:
    return security.send_password_reset(email=email)


def enqueue_password_reset(email: str) -> None:
    """Queue the reset email; a failure is logged, never shown (the answer must not differ)."""
    try:
        send_password_reset_task.enqueue(email)
    except Exception:  # noqa: BLE001 - the person can ask again; the answer stays the same
        logger.exception("Could not queue a password reset email")
