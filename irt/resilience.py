"""Riding out database outages: the worker, the sweeper, the alert correlator and a finished send wait and carry on.

A process that exits on the first ``OperationalError`` leaves breach notices unsent until a
person notices; the 72-hour promise cannot hang on that. Each long-running loop here catches
the errors a lost or restarting database raises, drops the broken connection, waits with capped
exponential backoff (logged, so the operator sees the outage in the service's log) and tries
again. Anything else still ends the process, and the supervisor (``make run``'s loop, systemd's
``Restart=always``) starts it again.
"""

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.db import close_old_connections, connections
from django.db.utils import InterfaceError, OperationalError

logger = logging.getLogger(__name__)

T = TypeVar("T")

# What a database that went away, restarts or refuses connections raises through Django.
DATABASE_OUTAGE = (OperationalError, InterfaceError)


def outage_backoff(failures: int, *, rng=random) -> float:
    """Return seconds to wait after ``failures`` consecutive failures: 1, 2, 4 … capped, with jitter."""
    ceiling = settings.IRT_WORKER_BACKOFF_MAX_SECONDS
    return min(ceiling, 2 ** max(0, failures - 1)) * rng.uniform(0.75, 1.25)


def drop_connections() -> None:
    """Close every connection of this thread, so the next query opens a fresh one."""
    for connection in connections.all(initialized_only=True):
        try:
            connection.close()
        except DATABASE_OUTAGE:
            # Closing a connection to a dead server can raise; the object is reset either way.
            connection.connection = None
    close_old_connections()


def run_forever(step: Callable[[], object], *, what: str, pause: float = 0.0, sleep=time.sleep,
                keep_going: Callable[[], bool] = lambda: True) -> None:
    """Call ``step`` again and again (``pause`` seconds apart), riding out database outages.

    A step that fails with a database error is retried after a backoff that grows with each
    consecutive failure and resets after a success; ``keep_going`` lets tests stop the loop.
    """
    failures = 0
    while keep_going():
        try:
            step()
        except DATABASE_OUTAGE as exc:
            failures += 1
            wait = outage_backoff(failures)
            logger.warning("%s: the database is unavailable (%s); retrying in %.1f s (failure %d).",
                           what, str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__,
                           wait, failures)
            drop_connections()
            sleep(wait)
            continue
        if failures:
            logger.warning("%s: the database is back after %d failed attempt(s).", what, failures)
        failures = 0
        if pause:
            sleep(pause)


def retry_through_outage(action: Callable[[], T], *, what: str, give_up_after: float, sleep=time.sleep,
                         clock=time.monotonic) -> T:
    """Return ``action()``, retrying through database outages for up to ``give_up_after`` seconds.

    For work that must not be lost once the far side has it, such as recording that a message
    was accepted by the mail server: giving up would send it again when the lease expires.
    """
    deadline = clock() + give_up_after
    failures = 0
    while True:
        try:
            return action()
        except DATABASE_OUTAGE:
            failures += 1
            wait = outage_backoff(failures)
            if clock() + wait > deadline:
                raise
            logger.warning("%s: the database is unavailable; retrying in %.1f s.", what, wait)
            drop_connections()
            sleep(wait)
