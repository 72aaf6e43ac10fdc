"""Signed-in reads kept in this process until PostgreSQL says a row they came from changed (issue 18).

Every signed-in request read its session row with its user, their permissions and second-factor
devices: one round trip and about 0.38 ms of this process's CPU, more than twice a whole anonymous
request (0.15 ms). Kept here by session key, a repeated request answers from memory.

Kept safely: triggers on every table that read comes from (migration 0005) notify PostgreSQL's
``irt_signed_in`` channel when a statement changes one, and PostgreSQL delivers the notification
when that transaction commits. A thread of each process listens and forgets everything kept on any
notification, so a sign-out, a deactivated account, a changed password, a removed permission or
device counts in every process within milliseconds of its commit, as it would for a request
already running. A process's own session writes forget their key at once.

Every wait has a deadline: the thread pings itself through the channel every ``PING_EVERY``
seconds, and unless a notification arrived within ``ALIVE_FOR`` seconds (a dropped, stalled or
not yet opened listening connection) nothing kept is used: every request reads the database, as
it does on SQLite or with ``IRT_SIGNED_IN_MEMO=0``. The thread reconnects by itself and starts
from nothing kept, since anything may have changed while nobody listened. A kept read also serves
for at most ``MAX_AGE`` seconds, a backstop, and each request gets its own copy of the user.

Each web process holds one more database connection, for listening. It must reach PostgreSQL
directly or through session pooling: behind a transaction-pooling PgBouncer a listener can miss
notifications, so set ``IRT_SIGNED_IN_MEMO=0`` there.
"""

import json
import logging
import os
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connections

CHANNEL = "irt_signed_in"
PING = "ping"
PING_EVERY = 2.0
ALIVE_FOR = 5.0
MAX_AGE = 60.0
MAX_KEPT = 5_000  # sessions kept per process (a few KB each); past it, everything kept is dropped
RECONNECT_AFTER = (0.5, 1, 2, 5, 10)
LISTENER_NAME = "irt-signed-in-listener"  # its connection's application_name, as pg_stat_activity shows it

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Kept:
    data: str  # the session's data as JSON (a fresh dict for each request)
    user: object | None  # the user as the read built them, before any request touched them
    expires_at: float  # the session's expiry, in seconds since the epoch
    serves_until: float  # time.monotonic() after which the read is made again


def _own_copy(instance):
    """A copy of a model instance (and the related instances it carries) that a request may change freely."""
    clone = object.__new__(type(instance))
    clone.__dict__.update(instance.__dict__)
    clone._state = state = object.__new__(type(instance._state))
    state.__dict__.update(instance._state.__dict__)
    state.fields_cache = {
        name: None if related is None else _own_copy(related) for name, related in instance._state.fields_cache.items()
    }
    return clone


class SignedInMemo:
    def __init__(self):
        self._kept: dict[str, _Kept] = {}
        self._generation = 0  # moved on by every forget_all: a read begun before it is not kept
        self._alive_until = 0.0
        self._listener_pid = None
        self._starting = threading.Lock()
        self._listener = None

    # Used by the session store on every signed-in request.

    def usable(self) -> bool:
        """Whether kept reads may serve: switched on, on PostgreSQL, and the listener heard from lately."""
        if not settings.IRT_SIGNED_IN_MEMO or connections["default"].vendor != "postgresql":
            return False
        if self._listener_pid != os.getpid():  # first use in this process (gunicorn forks workers)
            self._start_listening()
        return time.monotonic() < self._alive_until

    def stamp(self) -> int:
        """Taken before a read: ``keep`` refuses the read if anything was forgotten since."""
        return self._generation

    def get(self, session_key: str):
        """Return ``(data, user)`` kept for this session key, each the request's own, or None."""
        kept = self._kept.get(session_key)
        if kept is None:
            return None
        if time.monotonic() >= kept.serves_until or time.time() >= kept.expires_at:
            self._kept.pop(session_key, None)
            return None
        return json.loads(kept.data), None if kept.user is None else _own_copy(kept.user)

    def keep(self, session_key: str, stamp: int, data: dict, user, expire_date) -> None:
        if len(self._kept) >= MAX_KEPT:
            self._kept.clear()
        self._kept[session_key] = _Kept(
            json.dumps(data), None if user is None else _own_copy(user), expire_date.timestamp(), time.monotonic() + MAX_AGE)
        # Checked after storing: a forget_all running meanwhile either clears this or moves the generation on.
        if self._generation != stamp:
            self._kept.pop(session_key, None)

    def forget(self, session_key: str | None) -> None:
        if session_key:
            self._kept.pop(session_key, None)

    def forget_all(self) -> None:
        self._generation += 1
        self._kept.clear()

    # The listener.

    def _start_listening(self) -> None:
        with self._starting:
            if self._listener_pid == os.getpid():
                return
            self._listener_pid = os.getpid()
            self._alive_until = 0.0
            self.forget_all()  # a forked process's parent may have kept reads it will never hear about
            self._listener = threading.Thread(target=self._listen_forever, name=LISTENER_NAME, daemon=True)
            self._listener.start()

    def stop_listening(self) -> None:
        """End this process's listener (within ``PING_EVERY`` seconds) and forget everything kept: for tests,
        whose database cannot be dropped while a connection to it is open."""
        listener, self._listener, self._listener_pid = self._listener, None, None
        self._alive_until = 0.0
        self.forget_all()
        if listener is not None:
            try:  # wakes it at once
                with connections["default"].cursor() as cursor:
                    cursor.execute("SELECT pg_notify(%s, %s)", [CHANNEL, PING])
            except Exception:
                pass  # then it ends at its next ping
            listener.join(timeout=PING_EVERY + 3)

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
                with self._connect() as listening:
                    listening.execute(f"LISTEN {CHANNEL}")
                    self.forget_all()
                    failures = 0
                    self._hear(listening)
            except Exception:
                logger.warning("signed-in listener lost its connection; requests read the database until it is back",
                               exc_info=True)
            self._alive_until = 0.0
            self.forget_all()
            if self._listener_pid != os.getpid():  # stopped
                return
            time.sleep(RECONNECT_AFTER[min(failures, len(RECONNECT_AFTER) - 1)])
            failures += 1

    def _hear(self, listening) -> None:
        while self._listener_pid == os.getpid():
            listening.execute("SELECT pg_notify(%s, %s)", (CHANNEL, PING))
            for notice in listening.notifies(timeout=PING_EVERY):
                if self._listener_pid != os.getpid():  # stopped
                    return
                if notice.payload != PING:  # a table a kept read came from changed
                    self.forget_all()
                self._alive_until = time.monotonic() + ALIVE_FOR


signed_in_memo = SignedInMemo()
