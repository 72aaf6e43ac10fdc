"""Changes heard from PostgreSQL: one listening connection per process for whatever this process keeps in memory.

A process may keep a read in memory (the signed-in reads, ``cases.access.sessions.memo``; the public
pages, ``irt.public_memo``; cached values, ``irt.near_cache``) only while it can hear, within
milliseconds of their commit, every change that would make the read wrong. Each keeper subscribes a
``forget(payload)`` to a channel; a trigger notifies that channel inside the writing transaction, or
the writer ``announce``s the change after its commit, and PostgreSQL delivers a notification when the
transaction that sent it commits. A thread of each process LISTENs on its own connection and
calls the channel's subscribers.

Every wait has a deadline: the thread pings itself every ``PING_EVERY`` seconds, and unless a
notification arrived within ``ALIVE_FOR`` seconds (a dropped, stalled or not yet opened connection),
``heard_lately`` answers False and keepers must not serve what they kept. When the connection opens
again, or is lost, every subscriber is told to forget everything (``forget(None)``): anything may
have changed while nobody listened. The thread reconnects by itself with backoff.

The connection must reach PostgreSQL directly or through session pooling: behind a
transaction-pooling PgBouncer a listener can miss notifications, so switch the keepers off there.
"""

import logging
import os
import threading
import time
from collections.abc import Callable

from django.db import DatabaseError, connections

PING_CHANNEL = "irt_ping"
PING_EVERY = 2.0
ALIVE_FOR = 5.0
RECONNECT_AFTER = (0.5, 1, 2, 5, 10)
LISTENER_NAME = "irt-listener"  # its connection's application_name, as pg_stat_activity shows it

logger = logging.getLogger(__name__)

Forget = Callable[[str | None], None]


def on_postgresql() -> bool:
    return connections["default"].vendor == "postgresql"


def notify(channel: str, payload: str) -> None:
    """Send ``payload`` to ``channel``'s listeners in every process, when the current transaction commits (at once outside one)."""
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_notify(%s, %s)", [channel, payload])


def announce(channel: str, payload: str) -> None:
    """``notify`` after a commit, when the change is already made: a database gone meanwhile is logged, not raised
    (the request that made the change succeeded; other processes' copies then serve until their age runs out)."""
    if not on_postgresql():
        return
    try:
        notify(channel, payload)
    except DatabaseError:
        logger.warning("could not announce a change on %s; other processes' copies serve until they expire", channel,
                       exc_info=True)


class Listener:
    def __init__(self):
        self._subscribers: dict[str, list[Forget]] = {}
        self._listening: frozenset[str] = frozenset()  # the channels the open connection has LISTENed to
        self._alive_until = 0.0
        self._listener_pid = None
        self._starting = threading.Lock()
        self._thread = None

    def subscribe(self, channel: str, forget: Forget) -> None:
        """Call ``forget(payload)`` for each notification on ``channel``, and ``forget(None)`` whenever nothing was heard for a while.

        A channel subscribed after the connection opened is LISTENed to at the next ping; until then
        ``heard_lately(channel)`` is False.
        """
        self._subscribers.setdefault(channel, []).append(forget)

    def heard_lately(self, channel: str) -> bool:
        """Whether notifications on ``channel`` reach this process now: what was kept for it may serve."""
        if self._listener_pid != os.getpid():  # first use in this process (gunicorn forks workers)
            self._start()
        return channel in self._listening and time.monotonic() < self._alive_until

    def _start(self) -> None:
        with self._starting:
            if self._listener_pid == os.getpid():
                return
            self._listener_pid = os.getpid()
            self._alive_until = 0.0
            self._listening = frozenset()
            self._forget_everything()  # a forked process's parent may have kept reads it will never hear about
            self._thread = threading.Thread(target=self._listen_forever, name=LISTENER_NAME, daemon=True)
            self._thread.start()

    def stop_listening(self) -> None:
        """End this process's listener (within ``PING_EVERY`` seconds) and make every subscriber forget: for tests,
        whose database cannot be dropped while a connection to it is open."""
        thread, self._thread, self._listener_pid = self._thread, None, None
        self._alive_until = 0.0
        self._listening = frozenset()
        self._forget_everything()
        if thread is not None:
            try:  # wakes it at once
                notify(PING_CHANNEL, "stop")
            except Exception:
                pass  # then it ends at its next ping
            thread.join(timeout=PING_EVERY + 3)

    def _forget_everything(self) -> None:
        for forgets in list(self._subscribers.values()):
            for forget in forgets:
                forget(None)

    def _connect(self):
        import psycopg

        params = connections["default"].get_connection_params()
        for name in ("cursor_factory", "context", "prepare_threshold"):
            params.pop(name, None)
        # A silent network failure ends the connection within seconds, not the system's TCP timeout.
        return psycopg.connect(**params, autocommit=True, application_name=LISTENER_NAME, keepalives=1, keepalives_idle=5,
                               keepalives_interval=2, keepalives_count=2, tcp_user_timeout=int(ALIVE_FOR * 1000))

    def _listen_forever(self) -> None:
        failures = 0
        while self._listener_pid == os.getpid():
            try:
                with self._connect() as connection:
                    connection.execute(f"LISTEN {PING_CHANNEL}")
                    failures = 0
                    self._hear(connection)
            except Exception:
                logger.warning("the change listener lost its connection; kept reads are not used until it is back",
                               exc_info=True)
            self._alive_until = 0.0
            self._listening = frozenset()
            self._forget_everything()
            if self._listener_pid != os.getpid():  # stopped
                return
            time.sleep(RECONNECT_AFTER[min(failures, len(RECONNECT_AFTER) - 1)])
            failures += 1

    def _hear(self, connection) -> None:
        while self._listener_pid == os.getpid():
            wanted = frozenset(self._subscribers)
            if wanted - self._listening:
                for channel in sorted(wanted - self._listening):
                    connection.execute(f'LISTEN "{channel}"')
                    for forget in self._subscribers[channel]:  # kept before this listened: nothing of it is known good
                        forget(None)
                self._listening = wanted
            connection.execute("SELECT pg_notify(%s, %s)", (PING_CHANNEL, "ping"))
            for notice in connection.notifies(timeout=PING_EVERY):
                if self._listener_pid != os.getpid():  # stopped
                    return
                if notice.channel != PING_CHANNEL:
                    for forget in self._subscribers.get(notice.channel, ()):
                        forget(notice.payload)
                self._alive_until = time.monotonic() + ALIVE_FOR


listener = Listener()
