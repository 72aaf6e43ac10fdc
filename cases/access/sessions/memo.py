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

Every wait has a deadline: unless the process's listener (``irt.listening``) heard from PostgreSQL
lately, nothing kept is used: every request reads the database, as it does on SQLite or with
``IRT_SIGNED_IN_MEMO=0``, and when it listens again it starts from nothing kept, since anything may
have changed while nobody listened. A kept read also serves for at most ``MAX_AGE`` seconds, a
backstop, and each request gets its own copy of the user.

The listening connection must reach PostgreSQL directly or through session pooling: behind a
transaction-pooling PgBouncer a listener can miss notifications, so set ``IRT_SIGNED_IN_MEMO=0`` there.
"""

import json
import time
from dataclasses import dataclass

from django.conf import settings

from irt import listening

CHANNEL = "irt_signed_in"  # what the triggers of migration 0005 notify
MAX_AGE = 60.0
MAX_KEPT = 5_000  # sessions kept per process (a few KB each); past it, everything kept is dropped


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
    if isinstance(clone.__dict__.get("_perm_cache"), set):  # the permissions the backend read: a request may add to its own
        clone._perm_cache = set(clone._perm_cache)
    clone._state = state = object.__new__(type(instance._state))
    state.__dict__.update(instance._state.__dict__)
    state.fields_cache = {
        name: None if related is None else _own_copy(related) for name, related in instance._state.fields_cache.items()
    }
    return clone


class SignedInMemo:
    def __init__(self):
        self._kept: dict[str, _Kept] = {}
        # By session key: the kept read it was made from, and the user Django's ``auth.get_user`` made of it.
        self._finished: dict[str, tuple[_Kept, object]] = {}
        self._generation = 0  # moved on by every forget_all: a read begun before it is not kept
        listening.listener.subscribe(CHANNEL, lambda payload: self.forget_all())

    # Used by the session store on every signed-in request.

    def usable(self) -> bool:
        """Whether kept reads may serve: switched on, on PostgreSQL, and the listener heard from lately."""
        return settings.IRT_SIGNED_IN_MEMO and listening.on_postgresql() and listening.listener.heard_lately(CHANNEL)

    def stamp(self) -> int:
        """Taken before a read: ``keep`` refuses the read if anything was forgotten since."""
        return self._generation

    def get(self, session_key: str):
        """Return ``(data, user)`` kept for this session key, each the request's own, or None."""
        kept = self.entry(session_key)
        if kept is None:
            return None
        return self.read(kept)

    def entry(self, session_key: str) -> _Kept | None:
        """The read kept for this session key while it may serve; ``read`` gives a request its own copy of it."""
        kept = self._kept.get(session_key)
        if kept is None:
            return None
        if time.monotonic() >= kept.serves_until or time.time() >= kept.expires_at:
            self.forget(session_key)
            return None
        return kept

    @staticmethod
    def read(kept: _Kept):
        return json.loads(kept.data), None if kept.user is None else _own_copy(kept.user)

    def keep(self, session_key: str, stamp: int, data: dict, user, expire_date) -> _Kept | None:
        """Keep the read and return what was kept (None if a change was heard since ``stamp``)."""
        if len(self._kept) >= MAX_KEPT:
            self._kept.clear()
            self._finished.clear()
        kept = _Kept(json.dumps(data), None if user is None else _own_copy(user), expire_date.timestamp(),
                     time.monotonic() + MAX_AGE)
        self._kept[session_key] = kept
        self._finished.pop(session_key, None)
        # Checked after storing: a forget_all running meanwhile either clears this or moves the generation on.
        if self._generation != stamp:
            self._kept.pop(session_key, None)
            return None
        return kept

    # The finished user: what Django's auth.get_user makes of a kept read (issue 18).
    #
    # It depends on nothing but the read (the session's data, the user and their devices and permissions)
    # and the settings (the secret key, the backends), so it holds exactly as long as the read does: it is
    # kept beside it, for that read only, and forgotten with it. A repeated request then skips the
    # backend, the session hash's HMAC and the permission parsing, about a third of what signing in costs it.

    def keep_finished(self, session_key: str, kept: _Kept, user) -> None:
        """Keep the user ``auth.get_user`` made of ``kept``, as it returned them, unless the read was forgotten since."""
        if self._kept.get(session_key) is kept:
            self._finished[session_key] = (kept, _own_copy(user))
            if self._kept.get(session_key) is not kept:  # forgotten meanwhile (the listener's thread)
                self._finished.pop(session_key, None)

    def finished(self, session_key: str, kept: _Kept):
        """Return the request's own copy of the user ``auth.get_user`` made of ``kept``, or None."""
        found = self._finished.get(session_key)
        if found is None or found[0] is not kept or self._kept.get(session_key) is not kept:
            return None
        return _own_copy(found[1])

    def forget(self, session_key: str | None) -> None:
        if session_key:
            self._kept.pop(session_key, None)
            self._finished.pop(session_key, None)

    def forget_all(self) -> None:
        self._generation += 1
        self._kept.clear()
        self._finished.clear()


signed_in_memo = SignedInMemo()
