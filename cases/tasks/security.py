"""Background tasks of ``cases`` (Django Tasks API), run by the worker.

``cases.services.tasks`` is about action items on a case; this module is about the worker. Each
task calls a service; services queue tasks through ``cases.services.queue``.
"""

from django_tasks import task

from cases.services import queue, sessions


@queue.register(sessions.SEND_PASSWORD_RESET)
@task()
def send_password_reset_task(email: str) -> int:
    return sessions.send_password_reset(email=email)
