"""In-process CPU cost of the pages of issue 18 against the trivial view: a figure a busy machine cannot spoil.

Usage (on a database seeded by ``seed_demo`` and ``benchmarks/scale.py``, as ``benchmarks/pages.py`` does):
    DJANGO_SETTINGS_MODULE=benchmarks.settings DATABASE_URL=postgres://… \
        .venv/bin/python -m benchmarks.profile_pages [-n 200] [--profile PAGE-NAME] [--only SUBSTRING]

Each page is requested ``-n`` times through Django's test client (Host 127.0.0.1, DEBUG off), in five
A/B rounds with the trivial view (the same number of requests, the same cookie: staff, customer or
none; case pages a tenth as often). The figure is the least process CPU time per request over the
rounds (``time.process_time``: this process only, so the database server's own time is not in it,
though building queries and reading their rows is). Ratio = trivial CPU per request / page CPU per
request: the in-process counterpart of the req/s ratio ``benchmarks/pages.py`` measures with wrk.
``--profile NAME`` prints cProfile's top functions for the page whose name contains NAME.
"""

import argparse
import cProfile
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TRIVIAL = "/bench/trivial"
ROUNDS = 5


def signed_in_clients() -> dict:
    """Return Django test clients by cookie: ``none``, ``staff`` (the demo manager, second factor passed), ``customer``."""
    from django.test import Client

    from cases.models import User
    from tests.mfa import pass_second_factor

    clients = {"none": Client(HTTP_HOST="127.0.0.1")}
    for who, username in (("staff", "manager"), ("customer", "customer-contoso")):
        client = Client(HTTP_HOST="127.0.0.1")
        user = User.objects.get(username=username)
        client.force_login(user)
        if who == "staff":
            pass_second_factor(client, user)
        clients[who] = client
    return clients


def issue_pages(read, *, big: str | None, demo: str) -> list[dict]:
    """Return the pages of issue 18, each with whose cookie it is read (``read(path, who)`` returns a page's HTML:
    the portal and lesson addresses are read off the site). ``big``: the 5,000-event case, if the data has it."""
    import re

    incident = re.findall(r'href="(/portal/incidents/IRT-[\d-]+/)"', read("/portal/", "customer"))[0]
    lesson = next(href for href in re.findall(r'href="(/lessons/[a-z0-9-]+/)"', read("/lessons/", "none")) if href != "/lessons/feed/")
    pages = [
        {"name": "staff case detail (demo case)", "who": "staff", "path": f"/cases/{demo}/"},
        {"name": "case list", "who": "staff", "path": "/cases/"},
        {"name": "dashboard", "who": "staff", "path": "/"},
        {"name": "portal incident page", "who": "customer", "path": incident},
        {"name": "portal index", "who": "customer", "path": "/portal/"},
        {"name": "/lessons/", "who": "none", "path": "/lessons/"},
        {"name": "/lessons/<slug>/", "who": "none", "path": lesson},
        {"name": "lessons feed", "who": "none", "path": "/lessons/feed/"},
    ]
    if big:
        pages.insert(1, {"name": "staff case detail (5,000 events)", "who": "staff", "path": f"/cases/{big}/"})
    return pages


def _pages(clients) -> list[dict]:
    from cases.models import Case

    big = Case.objects.filter(reference="IRT-2019-BIG01").values_list("reference", flat=True).first()
    demo = Case.objects.exclude(reference__startswith="IRT-2019-").order_by("pk").values_list("reference", flat=True).first()
    return issue_pages(lambda path, who: clients[who].get(path).content.decode(), big=big, demo=demo)


def _cpu_per_request(client, path: str, n: int) -> float:
    started = time.process_time()
    for _ in range(n):
        response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}")
    return (time.process_time() - started) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=200, help="requests per page and per trivial run")
    parser.add_argument("--profile", default="", help="print cProfile's top functions for the page whose name contains this")
    parser.add_argument("--only", default="", help="measure only pages whose name contains this")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    clients = signed_in_clients()
    pages = [page for page in _pages(clients) if args.only in page["name"]]
    print("| page | cookie | queries | page CPU ms/request | trivial CPU ms/request | ratio |")
    print("|---|---|---|---|---|---|")
    for page in pages:
        client = clients[page["who"]]
        for _ in range(3):  # warm: caches filled, sessions written
            client.get(page["path"])
            client.get(TRIVIAL)
        with CaptureQueriesContext(connection) as captured:
            client.get(page["path"])
        queries = len(captured.captured_queries)  # read now: the next request clears the log
        n = max(10, args.n // 10) if "5,000" in page["name"] or "case detail" in page["name"] else args.n
        # Five A/B rounds; the least CPU per request of each side (the runs least disturbed by other work).
        trivial = measured = float("inf")
        for _ in range(ROUNDS):
            trivial = min(trivial, _cpu_per_request(client, TRIVIAL, max(1, n // ROUNDS)))
            measured = min(measured, _cpu_per_request(client, page["path"], max(1, n // ROUNDS)))
        print(f"| {page['name']} | {page['who']} | {queries} | {measured * 1000:.2f} | "
              f"{trivial * 1000:.2f} | {trivial / measured:.3f} |", flush=True)
        if args.profile and args.profile in page["name"]:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(n):
                client.get(page["path"])
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
            pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
