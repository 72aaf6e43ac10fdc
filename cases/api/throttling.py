"""A rate per token (``IRT_API_RATE``, e.g. ``600/min``); over it, 429 with ``Retry-After``.

The counts live in Django's cache, so with Redis as the cache every web node shares them.

A sliding window estimated from two fixed-window counters (the current window's count plus the
previous one's, weighted by how much of it still overlaps the last ``duration`` seconds): one cache
read of both and one increment per request, whatever the rate. DRF's ``SimpleRateThrottle`` keeps every
request's timestamp in one cache entry instead and pickles the whole list on each request, which
cost a connector sending hundreds of alerts a second more than storing the alert did.
"""

import math
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """Return ``(requests, seconds)`` for a rate such as ``600/min``."""
    count, _, period = rate.partition("/")
    return int(count), PERIODS[period]


class TokenRateThrottle(BaseThrottle):
    cache_format = "throttle_%(scope)s_%(ident)s"
    scope = "token"

    def allow_request(self, request, view) -> bool:
        # Read at request time (not import time), so a deployment or a test can change it.
        if not settings.IRT_API_RATE:
            return True
        limit, duration = parse_rate(settings.IRT_API_RATE)
        now = time.time()
        window, into = divmod(now, duration)
        key = self.get_cache_key(request, view)
        current, previous = f"{key}:{int(window)}", f"{key}:{int(window) - 1}"
        counts = cache.get_many([current, previous])
        in_current, in_previous = counts.get(current, 0), counts.get(previous, 0)
        overlap = 1 - into / duration
        if in_previous * overlap + in_current >= limit:
            self._wait = self._seconds_until_allowed(limit, duration, into, in_current, in_previous)
            return False
        # The window's counter exists for all but its first request: increment first, create if missing.
        try:
            cache.incr(current)
        except ValueError:
            if not cache.add(current, 1, timeout=2 * duration + 1):
                cache.incr(current)  # another request created it in between
        return True

    @staticmethod
    def _seconds_until_allowed(limit: int, duration: int, into: float, in_current: int, in_previous: int) -> float:
        """How long until the estimate drops below the limit, if no other request arrives."""
        if in_current >= limit:
            # Wait for this window to end, then for enough of it to slide out of the next one.
            return (duration - into) + duration * (1 - limit / in_current)
        # The previous window's share must shrink until the current count fits under the limit.
        needed_overlap = (limit - in_current) / in_previous
        return max(0.0, duration * (1 - needed_overlap) - into)

    def wait(self) -> int:
        return max(1, math.ceil(getattr(self, "_wait", 1)))

    def get_cache_key(self, request, view) -> str:
        token = request.auth
        if token is None:
            # Unauthenticated requests are refused before any work; count them per address.
            return self.cache_format % {"scope": "anon", "ident": self.get_ident(request)}
        return self.cache_format % {"scope": self.scope, "ident": token.pk}
