"""A copy, in this process's memory, of what the shared cache holds for signed-in pages (issue 18).

With Redis, every cache read is a round trip, about 0.2 ms of the machine's time; a signed-in page
made three to five before any work of its own. Two kinds of entry are kept here as well:

- **Fixed** entries, whose key names everything the value depends on (a kept page: ``kept_pages``;
  an organisation's incident body at a timeline head): a key's value never changes, so the copy here
  needs no invalidating.
- **Generational** values (``irt.cache.Generations``): kept with their generation until a ``forget``
  is announced. ``Generations.forget`` makes this process forget at once (so its own transaction
  reads its own writes) and, once the new generation is drawn after the commit, notifies every
  process through PostgreSQL (``irt.listening``). A value read before that notification is not kept
  (generation stamp); unless the listener was heard from lately none is served; a kept one serves for
  at most ``MAX_AGE`` seconds, the bound for a notification lost with the process that should have
  sent it.

Each request gets its own copy (kept pickled); a copy serves for at most ``MAX_AGE`` seconds, and each
kind holds at most ``MAX_KEPT`` entries and ``MAX_BYTES`` of them per process. Not used with a process-local cache (it already is
this process's memory), or with ``IRT_NEAR_CACHE=0``; generational values only on PostgreSQL.
"""

import pickle
import time

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.locmem import LocMemCache

from irt import listening

CHANNEL = "irt_generations"
MAX_AGE = 60.0
MAX_KEPT = 2_000  # entries of each kind per process; past it, or past MAX_BYTES, every entry of that kind is dropped
MAX_BYTES = 64 * 1024 * 1024  # a kept staff page is tens of KB: a few hundred readers' pages per process


class KeptCopies:
    """Values kept pickled (each read gets its own copy), each for a bounded time, at most ``limit`` of them in ``max_bytes``.

    ``forget_all`` moves a generation on: a value read from elsewhere before it (``stamp()`` taken
    before the read) is not kept, so a forget heard while the read was under way is never undone.
    """

    def __init__(self, limit: int = MAX_KEPT, max_bytes: int = MAX_BYTES):
        self.limit, self.max_bytes = limit, max_bytes
        self.entries: dict[str, tuple[bytes, float]] = {}  # the pickled value, and time.monotonic() it serves until
        self.size = 0  # bytes of every pickled value kept, counted as kept (a replaced or expired one until the next clear)
        self._generation = 0

    def stamp(self) -> int:
        return self._generation

    def get(self, key: str):
        entry = self.entries.get(key)
        if entry is None:
            return None
        if time.monotonic() >= entry[1]:
            self.entries.pop(key, None)
            return None
        return pickle.loads(entry[0])  # noqa: S301 - pickled by this process

    def keep(self, key: str, value, seconds: float, stamp: int | None = None) -> None:
        pickled = pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
        if len(self.entries) >= self.limit or self.size + len(pickled) > self.max_bytes:
            self.entries.clear()
            self.size = 0
        self.entries[key] = (pickled, time.monotonic() + seconds)
        self.size += len(pickled)
        # Checked after storing: a forget_all running meanwhile either clears this or moves the generation on.
        if stamp is not None and self._generation != stamp:
            self.entries.pop(key, None)

    def forget_all(self) -> None:
        self._generation += 1
        self.entries.clear()
        self.size = 0


class NearCache:
    def __init__(self):
        self._fixed = KeptCopies()
        self._generational = KeptCopies()
        listening.listener.subscribe(CHANNEL, lambda payload: self.forget_generational())

    @staticmethod
    def _switched_on() -> bool:
        return settings.IRT_NEAR_CACHE and not isinstance(caches["default"], LocMemCache)

    # Fixed entries.

    def get_many_fixed(self, keys: list[str]) -> dict:
        """Return the values of ``keys`` found here or, for the rest, in the shared cache (one round trip), as ``get_many``."""
        if not self._switched_on():
            return cache.get_many(keys)
        found = {}
        for key in keys:
            value = self._fixed.get(key)
            if value is not None:
                found[key] = value
        missing = [key for key in keys if key not in found]
        if missing:
            shared = cache.get_many(missing)
            for key, value in shared.items():
                self._fixed.keep(key, value, MAX_AGE)
            found.update(shared)
        return found

    def get_fixed(self, key: str):
        return self.get_many_fixed([key]).get(key)

    def set_fixed(self, key: str, value, seconds: int) -> None:
        cache.set(key, value, seconds)
        if self._switched_on():
            self._fixed.keep(key, value, min(seconds, MAX_AGE))

    # Generational values.

    def usable_for_generations(self) -> bool:
        return self._switched_on() and listening.on_postgresql() and listening.listener.heard_lately(CHANNEL)

    def stamp(self) -> int:
        """Taken before the shared cache is read: ``keep_generational`` refuses what was read if anything was forgotten since."""
        return self._generational.stamp()

    def get_generational(self, key: str):
        return self._generational.get(key)

    def keep_generational(self, key: str, stamp: int, value) -> None:
        self._generational.keep(key, value, MAX_AGE, stamp)

    def forget_generational(self) -> None:
        self._generational.forget_all()

    def announce(self, prefix: str) -> None:
        """Tell every process that values of ``prefix`` have new generations (call once they are drawn)."""
        if self._switched_on():
            listening.announce(CHANNEL, prefix)


near_cache = NearCache()
