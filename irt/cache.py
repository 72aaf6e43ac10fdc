"""Django's Redis cache, taking a Redis outage as a miss instead of an error.

Everything IRT keeps in the cache can be rebuilt (rate-limit counts, rendered public pages, the
cached copy of a session whose row is in the database), so a page must not fail because Redis is
away: a read answers "not there", a write is dropped, and the outage is logged at most once a
minute per process. Short socket timeouts (``settings.REDIS_URL``) bound what each call can wait.
"""

import logging
import time

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

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
