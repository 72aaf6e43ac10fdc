"""Django's Redis cache, taking a Redis outage as a miss instead of an error.

Everything IRT keeps in the cache can be rebuilt (rate-limit counts, rendered public pages, the
cached copy of a session whose row is in the database), so a page must not fail because Redis is
away: a read answers "not there", a write is dropped, and the outage is logged at most once a
minute per process. Short socket timeouts (``settings.REDIS_URL``) bound what each call can wait.

``Generations`` keeps values read from the database until whatever they depend on changes: the
public pages' versions (``irt.middleware.PublishedVersion``), the inbox badge, subscription choices.
"""

import logging
import secrets
import time

from django.core.cache import cache, caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from django.db import connection, transaction
from redis.exceptions import RedisError

from irt.near_cache import near_cache
from irt.watched_reads import watched_reads

logger = logging.getLogger(__name__)
LOG_EVERY_SECONDS = 60


class ForgivingRedisCache(RedisCache):
    _last_logged = 0.0

    def _outage(self, error: RedisError) -> None:
        now = time.monotonic()
        if now - ForgivingRedisCache._last_logged >= LOG_EVERY_SECONDS:
            ForgivingRedisCache._last_logged = now
            logger.warning("Redis is unavailable (%s); the cache answers misses until it is back.", error)


def _forgiving(name: str, answer):
    """Wrap ``RedisCache.<name>`` so that a Redis error logs and returns ``answer(args, kwargs)``."""
    method = getattr(RedisCache, name)

    def call(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except RedisError as error:
            self._outage(error)
            return answer(args, kwargs)

    call.__name__ = name
    call.__doc__ = method.__doc__
    return call


def _default(args, kwargs):
    return kwargs.get("default", args[1] if len(args) > 1 else None)


# What each call answers while Redis is away: a miss, "not stored", or (set_many) every key failed.
_OUTAGE_ANSWERS = {
    "get": _default,
    "get_many": lambda args, kwargs: {},
    "has_key": lambda args, kwargs: False,
    "add": lambda args, kwargs: False,
    "touch": lambda args, kwargs: False,
    "delete": lambda args, kwargs: False,
    "set": lambda args, kwargs: None,
    "delete_many": lambda args, kwargs: None,
    "set_many": lambda args, kwargs: list(args[0] if args else kwargs.get("data", {})),
    "incr": lambda args, kwargs: 0,
}
for _name, _answer in _OUTAGE_ANSWERS.items():
    setattr(ForgivingRedisCache, _name, _forgiving(_name, _answer))


class Generations:
    """Values read from the database, each kept in the cache with the generation of its name.

    ``forget(names)`` (called where what a value depends on changes) draws a new generation for each
    name instead of deleting the value: a reader that computed the old value just before the change
    committed, and stores it after, stores it with the old generation, which no reader accepts.
    ``forget`` acts at once and again when the transaction commits. A value and its name's
    generation are read in one round trip.

    A process-local cache (``LocMemCache``, no ``REDIS_URL``) cannot hear another process's
    ``forget``, so there a value is kept ``LOCAL_SECONDS``; a shared cache keeps it
    ``SHARED_SECONDS`` (a bound for a ``forget`` lost while Redis was away).
    """

    LOCAL_SECONDS = 2
    SHARED_SECONDS = 300

    def __init__(self, prefix: str):
        self.prefix = prefix

    @classmethod
    def seconds(cls) -> int:
        """Return how long a value may be kept: short where another process cannot make it stale."""
        return cls.LOCAL_SECONDS if isinstance(caches["default"], LocMemCache) else cls.SHARED_SECONDS

    def generation_key(self, name) -> str:
        """The cache key of ``name``'s generation, for a caller that reads it with other keys in one round trip."""
        return f"{self.prefix}:{name}:generation"

    def generation(self, name):
        return cache.get(self.generation_key(name))

    def get(self, name, compute):
        """Return the kept value of ``name``, or ``compute()`` it and keep it under its current generation."""
        return self.get_with_generation(name, compute)[0]

    def get_with_generation(self, name, compute, *, kept_as: str = "") -> tuple:
        """Return ``(value, generation)``; the generation is None while the cache is away.

        ``kept_as`` names one of several values kept under the one generation of ``name``. With a
        shared cache, a value is also kept in this process until a ``forget`` of it is announced
        (``irt.near_cache``): a repeated read makes no round trip.
        """
        if watched_reads.recording_now():
            # A rendering kept until a table it read changes (irt.watched_reads) reads the database itself, as while the
            # cache is away: no trigger says when a cached value changes, and what compute() reads is recorded.
            return compute(), None
        if not near_cache.usable_for_generations():
            return self._get_with_generation(name, compute, kept_as)
        near_key = f"{self.prefix}:{name}:{kept_as}"
        kept = near_cache.get_generational(near_key)
        if kept is not None:
            return kept
        stamp = near_cache.stamp()
        value, generation = self._get_with_generation(name, compute, kept_as)
        # Not inside a transaction: what it read may be its own writes, which a rollback would leave kept and never announced.
        if generation is not None and not connection.in_atomic_block:
            near_cache.keep_generational(near_key, stamp, (value, generation))
        return value, generation

    def _get_with_generation(self, name, compute, kept_as: str) -> tuple:
        generation_key, value_key = self.generation_key(name), f"{self.prefix}:{name}"
        if kept_as:
            value_key = f"{value_key}:{kept_as}"
        found = cache.get_many([generation_key, value_key])
        generation = found.get(generation_key)
        if generation is None:
            cache.add(generation_key, secrets.token_hex(8), None)
            generation = cache.get(generation_key)
            if generation is None:  # the cache is away: ask the database every time
                return compute(), None
        kept = found.get(value_key)
        if kept is not None and kept[0] == generation:
            return kept[1], generation
        value = compute()
        cache.set(value_key, (generation, value), self.seconds())
        return value, generation

    def forget(self, names) -> None:
        """Make the kept values of ``names`` stale, now and when the transaction commits."""
        keys = [self.generation_key(name) for name in names]
        if not keys:
            return

        def new_generations():
            cache.set_many({key: secrets.token_hex(8) for key in keys}, None)

        def after_commit():
            new_generations()
            near_cache.announce(self.prefix)  # every process forgets its copies, and reads the new generation

        new_generations()
        near_cache.forget_generational()  # this process's own copies at once: its transaction reads its own writes
        transaction.on_commit(after_commit)
