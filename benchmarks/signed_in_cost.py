"""What a signed-in cookie costs the trivial view in-process, and where: the staff middleware goal of issue 18.

Usage (on a database seeded as ``benchmarks/pages.py`` seeds it; PostgreSQL, so the signed-in memo serves):
    DJANGO_SETTINGS_MODULE=benchmarks.settings DATABASE_URL=postgres://… \
        .venv/bin/python -m benchmarks.signed_in_cost [-n 400] [--breakdown]

Prints the least process CPU time per trivial request (best of five runs of ``-n``) with no cookie,
the demo manager's (second factor passed) and customer-contoso's, through Django's test client, and
the staff-to-anonymous ratio the goal bounds (1.2). ``--breakdown`` times each middleware method,
Django's ``auth.get_user`` and the view handler over 3,000 requests per cookie, each exclusive of the
others, so a signed-in request's extra work shows by name.
"""

import argparse
import collections
import functools
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TRIVIAL = "/bench/trivial"


def _timed(totals: dict, stack: list, name: str, function):
    @functools.wraps(function)
    def timed(*args, **kwargs):
        stack.append(0.0)
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            elapsed = time.perf_counter() - started
            inner = stack.pop()
            totals[name] += elapsed - inner
            if stack:
                stack[-1] += elapsed

    return timed


def _instrument(totals: dict) -> None:
    from django.conf import settings
    from django.contrib import auth
    from django.core.handlers import base
    from django.utils.module_loading import import_string

    from cases.views import middleware

    stack: list[float] = []
    for path in settings.MIDDLEWARE:
        cls = import_string(path)
        for method in ("__call__", "process_request", "process_view", "process_response"):
            if hasattr(cls, method):
                setattr(cls, method, _timed(totals, stack, f"{cls.__name__}.{method}", getattr(cls, method)))
    middleware.auth.get_user = _timed(totals, stack, "auth.get_user", auth.get_user)
    base.BaseHandler._get_response = _timed(totals, stack, "the handler and the view", base.BaseHandler._get_response)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=400)
    parser.add_argument("--breakdown", action="store_true")
    args = parser.parse_args()

    import django

    django.setup()
    from benchmarks.profile_pages import _cpu_per_request, signed_in_clients

    clients = signed_in_clients()
    for client in clients.values():
        for _ in range(30):  # warm: sessions written and kept, the listener heard from
            client.get(TRIVIAL)
    cpu = {who: min(_cpu_per_request(clients[who], TRIVIAL, args.n) for _ in range(5)) for who in ("none", "staff", "customer")}
    for who, seconds in cpu.items():
        print(f"{who:9s} {seconds * 1e6:7.1f} µs per trivial request")
    print(f"staff / anonymous: {cpu['staff'] / cpu['none']:.2f} (in-process; wrk's ratio adds gunicorn's share to both)")
    if args.breakdown:
        totals: dict[str, float] = collections.defaultdict(float)
        _instrument(totals)
        for client in clients.values():  # the middleware chain again, through the timed methods
            client.handler.load_middleware()
        for who in ("none", "staff"):
            for _ in range(100):
                clients[who].get(TRIVIAL)
            totals.clear()
            for _ in range(3000):
                clients[who].get(TRIVIAL)
            print(f"\n{who}: µs per request, exclusive")
            for name, seconds in sorted(totals.items(), key=lambda item: -item[1]):
                print(f"  {name:50s} {seconds / 3000 * 1e6:6.1f}")


if __name__ == "__main__":
    main()
