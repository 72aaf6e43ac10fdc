"""Site-wide views."""

import threading
import time

from django.conf import settings
from django.db import connections
from django.db.utils import DatabaseError
from django.http import JsonResponse
from django.views.decorators.cache import never_cache


class DatabaseProbe:
    """Ask the database ``SELECT 1`` from a thread of its own, and wait a bounded time for the answer.

    A frozen database (a stopped process, a dropped network path) accepts a connection and then
    never answers; a probe in the request's thread would hang the request, and a load balancer
    polling every few seconds would hang every web thread. The probe thread opens its own
    connection (Django's are per thread), bounded by the connect and statement timeouts, and at
    most one probe is in flight per process: while one is stuck, ``/healthz`` answers 503 at once.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._in_flight: threading.Event | None = None
        self._answer: dict = {}
        self._started = 0.0

    def _run(self, done: threading.Event, answer: dict) -> None:
        connection = connections["default"]
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
            answer["ok"] = True
        except DatabaseError:
            answer["ok"] = False
        finally:
            try:
                connection.close()
            except DatabaseError:
                pass
            done.set()

    def database_answers(self, *, timeout: float) -> bool:
        """Return whether the database answered within ``timeout`` seconds."""
        with self._lock:
            if self._in_flight is None or self._in_flight.is_set():
                self._in_flight, self._answer, self._started = threading.Event(), {}, time.monotonic()
                threading.Thread(target=self._run, args=(self._in_flight, self._answer), daemon=True,
                                 name="healthz-probe").start()
            done, answer, started = self._in_flight, self._answer, self._started
        # A probe already older than the timeout is stuck: its answer would come too late anyway.
        done.wait(max(0.0, started + timeout - time.monotonic()))
        return done.is_set() and answer.get("ok", False)


probe = DatabaseProbe()


@never_cache
def healthz(request):
    """Answer 200 after a database round trip, 503 when the database does not answer in time."""
    if not probe.database_answers(timeout=settings.IRT_HEALTHZ_TIMEOUT_SECONDS):
        return JsonResponse({"status": "unavailable", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})
