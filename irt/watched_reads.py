"""Renderings kept in this process until PostgreSQL says a table they read changed (issue 18).

A kept page's slots (``cases.views.kept_pages``) are rendered on every request because what they
show changes without the page's key: an alert arrives in the case's group, a worker ends a
delivery, a customer acknowledges. On a case with notices sent, they were six queries and half the
page's time. Here they are kept, under the page's key, until a table they read changes.

Which tables a rendering read is not declared but recorded: every statement it runs is read for
the names of the project's tables (``recording``). It is kept only if each of them carries the
trigger of ``notifications/migrations/0002`` (asked of the database once per listening
connection), which notifies ``irt_watched_tables`` when a statement changes the table; every
process then forgets everything it kept. A rendering that read a table without the trigger is not
kept; a cached value it needs (``irt.cache.Generations``) is computed from the database instead,
so that what it depends on is recorded too. A statement of this
process that writes to a watched table forgets at once, so a request reads its own writes before
the notification arrives; nothing read inside a transaction is kept (a rollback would leave it
kept and never notified). The rest is ``irt.listening``'s: nothing kept serves unless the listener
heard from PostgreSQL lately, and a kept rendering serves at most ``MAX_AGE`` seconds.

What a rendering shows must come from its key and the database: the key names the reader and the
page's own row; anything else it shows must be read through Django's cursors while recording.
"""

import re
import threading
from contextlib import contextmanager

from django.apps import apps
from django.conf import settings
from django.db import connection

from irt import listening
from irt.near_cache import KeptCopies

CHANNEL = "irt_watched_tables"  # what the triggers of notifications/migrations/0002 notify
TRIGGER = "irt_watched_table_changed"
MAX_AGE = 60.0
_WORDS = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_WRITES = re.compile(r"\s*(?:INSERT|UPDATE|DELETE|TRUNCATE|MERGE|COPY)\b|\s*WITH\b.*\b(?:INSERT|UPDATE|DELETE)\b", re.I | re.S)


class _Reads:
    """What one rendering read: the project's tables its statements named."""

    def __init__(self, project_tables: frozenset):
        self.project_tables = project_tables
        self.tables: set[str] = set()

    def __call__(self, execute, sql, params, many, context):
        self.tables.update(word for word in _WORDS.findall(sql) if word in self.project_tables)
        return execute(sql, params, many, context)


class WatchedReads:
    def __init__(self):
        self._copies = KeptCopies()
        self._watched: frozenset | None = None  # the tables with the trigger, read once per listening connection
        self._recording = threading.local()
        self._subscribing = threading.Lock()
        self._subscribed = False
        if settings.IRT_WATCHED_READS:  # from the start, so the listener's first connection LISTENs to it too
            self._subscribe()

    def _subscribe(self) -> None:
        """Listen on the channel where the setting is on (from the first use, if it is switched on later): where it is
        off, this process's listener wakes for no write to the watched tables (alert intake writes them all the time)."""
        with self._subscribing:
            if not self._subscribed:
                listening.listener.subscribe(CHANNEL, self._heard)
                self._subscribed = True

    def _heard(self, payload) -> None:
        if payload is None:  # (re)connected or lost: the triggers may have changed too
            self._watched = None
        self.forget_all()

    def usable(self) -> bool:
        if not (settings.IRT_WATCHED_READS and listening.on_postgresql()):
            return False
        if not self._subscribed:
            self._subscribe()
        return listening.listener.heard_lately(CHANNEL)

    def _watched_tables(self) -> frozenset:
        if self._watched is None:
            with connection.cursor() as cursor:
                cursor.execute("SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                               "WHERE t.tgname = %s AND NOT t.tgisinternal", [TRIGGER])
                self._watched = frozenset(name for (name,) in cursor.fetchall())
        return self._watched

    # Kept renderings.

    def get(self, key: str):
        return self._copies.get(key) if self.usable() else None

    @contextmanager
    def recording(self):
        """Record what the block reads; yield a ``keep(key, value)`` that keeps ``value`` only if all it read is watched."""
        if not self.usable() or connection.in_atomic_block:
            yield lambda key, value: None
            return
        watched = self._watched_tables()
        stamp = self._copies.stamp()
        reads = _Reads(_project_tables())
        outer = getattr(self._recording, "reads", None)
        self._recording.reads = reads
        try:
            with connection.execute_wrapper(reads):
                yield lambda key, value: reads.tables <= watched and self._copies.keep(key, value, MAX_AGE, stamp)
        finally:
            self._recording.reads = outer
            if outer is not None:  # what an inner rendering read, the outer one read too
                outer.tables |= reads.tables

    def kept_read(self, key: str, read):
        """Return ``read()``, kept in this process under ``key`` until a table it read changes.

        ``key`` must name everything the read depends on besides the database (its parameters). An empty
        answer is not kept: a flood of made-up keys (addresses that name nothing) must not push out real ones.
        """
        kept = self.get(key)
        if kept is not None:
            return kept
        with self.recording() as keep:
            value = read()
            if value:
                keep(key, value)
        return value

    def recording_now(self) -> bool:
        """Whether a rendering is being recorded: a cached value it needs must be read from the database (``irt.cache``)."""
        return getattr(self._recording, "reads", None) is not None

    # Forgetting.

    def forget_all(self) -> None:
        self._copies.forget_all()

    def forget_on_write(self, execute, sql, params, many, context):
        """An execute wrapper: a statement of this process that writes to a watched table forgets everything kept, first."""
        if self._copies.entries and _WRITES.match(sql) and self._watched is not None:
            if not self._watched.isdisjoint(_WORDS.findall(sql)):
                self.forget_all()
        return execute(sql, params, many, context)


_project_table_names = None


def _project_tables() -> frozenset:
    global _project_table_names
    if _project_table_names is None:
        _project_table_names = frozenset(model._meta.db_table for model in apps.get_models(include_auto_created=True))
    return _project_table_names


watched_reads = WatchedReads()
