"""A rate per token (``IRT_API_RATE``, e.g. ``600/min``); over it, 429 with ``Retry-After``.

The counts live in Django's cache, so with Redis as the cache every web node shares them.
"""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


class TokenRateThrottle(SimpleRateThrottle):
    scope = "token"

    def get_rate(self):
        # Read at request time (not import time), so a deployment or a test can change it.
        return settings.IRT_API_RATE

    def allow_request(self, request, view):
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def parse_rate(self, rate):
        if rate is None:
            return None, None
        count, _, period = rate.partition("/")
        seconds = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}[period]
        return int(count), seconds

    def get_cache_key(self, request, view):
        token = request.auth
        if token is None:
            # Unauthenticated requests are refused before any work; count them per address.
            return self.cache_format % {"scope": "anon", "ident": self.get_ident(request)}
        return self.cache_format % {"scope": self.scope, "ident": token.pk}
