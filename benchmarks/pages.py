"""Every page of issue 18 against the trivial view, in A/B rounds: queries, req/s, ratio, p50 and p99.

Usage:
    .venv/bin/python benchmarks/pages.py [--cases 10000] [--rounds 3] [--seconds 10] [--workers 2]
        [--connections 32] [--instances 1] [--quick]

Seeds the database (``migrate``, ``seed_demo``, then ``benchmarks/scale.py`` with ``--cases``
cases and one case of 5,000 timeline events and 200 tasks; all idempotent, so a seeded database
is reused; then ``ANALYZE`` where PostgreSQL's autovacuum is off, as on this machine), serves it
with gunicorn (production-like settings, DEBUG off) on 127.0.0.1, signs in
as the demo manager (password and second factor, like a person) and as customer-contoso, and
drives each page with wrk. Each page is measured right after the trivial view with the same
cookie (staff, customer or none) in the same round, so the ratio compares like with like on a
machine whose speed drifts; the figures are the median over ``--rounds``. With ``--instances 2``
two gunicorn instances on two ports share the database and cache, and the rounds alternate
between them. Queries per page are counted once, in this process, through Django's test client.

DATABASE_URL selects the database (10,000 cases needs PostgreSQL: createdb first); without it a
throwaway SQLite file is used. REDIS_URL, when set, puts the cache and sessions on Redis.
``--quick`` is a smoke run (one round of 2 s per page): it shows the benchmark works, not figures.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from contextlib import ExitStack
from http.cookiejar import CookieJar
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import ROOT, analyze_once, manage, require_wrk, scratch_env, serve  # noqa: E402

PORT = 8771
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
PASSWORD = "irt-demo-password"
TRIVIAL = "/bench/trivial"


def sign_in(base: str, username: str, *, second_factor: bool) -> str:
    """Sign in through the login page (and the second-factor page for staff); return the Cookie header."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def post(path: str, fields: dict) -> str:
        page = opener.open(f"{base}{path}").read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        data = urllib.parse.urlencode({"csrfmiddlewaretoken": token, **fields}).encode()
        return opener.open(urllib.request.Request(f"{base}{path}", data=data, headers={"Referer": f"{base}{path}"})).geturl()

    post("/accounts/login/", {"username": username, "password": PASSWORD})
    if second_factor:
        from base64 import b32decode

        from django_otp.oath import totp

        landed = post("/accounts/two-factor/", {"otp_token": f"{totp(b32decode(TOTP_SECRET)):06d}"})
        if "two-factor" in landed:
            raise SystemExit(f"{username}: the second factor was refused (landed on {landed})")
    return "; ".join(f"{cookie.name}={cookie.value}" for cookie in jar)


def wrk_stats(url: str, *, seconds: int, connections: int, cookie: str | None) -> dict:
    """Run wrk (2 threads, latency percentiles) on ``url``; return req/s, p50 and p99 in ms. Stop on any failed response."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    out = subprocess.run([*command, url], check=True, capture_output=True, text=True).stdout
    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if failed:
        raise SystemExit(f"{url}: {failed.group(1)} failed responses\n{out}")

    if not re.search(r"Requests/sec:\s+[1-9]", out):
        raise SystemExit(f"{url} (cookie {(cookie or 'none')[:60]}): no request answered\n{out}")

    def ms(percentile: str) -> float:
        value, unit = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), "p50": ms("50"), "p99": ms("99")}


def count_queries(pages: list[dict]) -> dict[str, int]:
    """Return the queries each page runs (second request, caches warm), through Django's test client in this process."""
    import django

    django.setup()
    from django.db import connection, connections
    from django.test.utils import CaptureQueriesContext

    from benchmarks.profile_pages import signed_in_clients

    clients = signed_in_clients()
    counts = {}
    for page in pages:
        client = clients[page["who"]]
        client.get(page["path"])
        with CaptureQueriesContext(connection) as captured:
            response = client.get(page["path"])
        if response.status_code != 200:
            raise SystemExit(f"{page['path']} answered {response.status_code} to the test client")
        counts[page["name"]] = len(captured.captured_queries)
    # Let go of the database: an open SQLite connection here would hold up the served site's writes.
    connections.close_all()
    return counts


def pages_to_measure(base: str, cookies: dict, big: str, demo: str) -> list[dict]:
    """Return the pages of issue 18, each with whose cookie it is read; the portal and lesson addresses are read off the site."""
    from benchmarks.profile_pages import issue_pages

    def read(path: str, who: str) -> str:
        request = urllib.request.Request(f"{base}{path}", headers={"Cookie": cookies[who]} if cookies.get(who) else {})
        return urllib.request.urlopen(request).read().decode()

    return issue_pages(read, big=big, demo=demo)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10000, help="benchmark cases added to the demo data (default 10000)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per page and per trivial run")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers per instance")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--instances", type=int, default=1, help="gunicorn instances on consecutive ports, same database and cache")
    parser.add_argument("--quick", action="store_true", help="one round of 2 s per page: a smoke run, not figures")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.seconds = 1, 2
    require_wrk()
    with scratch_env(IRT_DEMO_TOTP_SECRET=TOTP_SECRET) as (env, _):
        os.environ.update({key: env[key] for key in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "IRT_DEMO_TOTP_SECRET")})
        started = time.perf_counter()
        manage(env, "migrate", "-v0")
        manage(env, "seed_demo", "--totp-secret", TOTP_SECRET)
        seeded = subprocess.run([sys.executable, "-m", "benchmarks.scale", "--cases", str(args.cases)], cwd=ROOT, env=env,
                                check=True, capture_output=True, text=True).stdout
        big, demo = re.search(r"big=(\S+) demo=(\S+)", seeded).groups()
        manage(env, "collectstatic", "--noinput", "-v0")
        analyzed = analyze_once(env)
        print(f"seeded in {time.perf_counter() - started:.0f} s{' (then ANALYZE: autovacuum is off here)' if analyzed else ''}",
              flush=True)
        with ExitStack() as stack:
            bases = [stack.enter_context(serve(env, port=PORT + i, workers=args.workers)) for i in range(args.instances)]
            cookies = {"none": None, "staff": sign_in(bases[0], "manager", second_factor=True),
                       "customer": sign_in(bases[0], "customer-contoso", second_factor=False)}
            pages = pages_to_measure(bases[0], cookies, big, demo)
            queries = count_queries(pages + [{"name": f"trivial ({who})", "who": who, "path": TRIVIAL} for who in cookies])
            # One request each first, on every instance: no run starts with cold caches or a session write to make.
            for base in bases:
                for page in pages + [{"who": who, "path": TRIVIAL} for who in cookies]:
                    headers = {"Cookie": cookies[page["who"]]} if cookies[page["who"]] else {}
                    urllib.request.urlopen(urllib.request.Request(base + page["path"], headers=headers), timeout=60).read()
            results = {page["name"]: [] for page in pages}
            for round_number in range(args.rounds):
                for index, page in enumerate(pages):
                    base = bases[(round_number + index) % len(bases)]
                    load = {"seconds": args.seconds, "connections": args.connections, "cookie": cookies[page["who"]]}
                    trivial = wrk_stats(base + TRIVIAL, **load)
                    measured = wrk_stats(base + page["path"], **load)
                    results[page["name"]].append({**measured, "trivial": trivial["rps"], "ratio": measured["rps"] / trivial["rps"]})
                print(f"round {round_number + 1} of {args.rounds} done", flush=True)
    cases_total = args.cases + 10
    print(f"\n{time.strftime('%Y-%m-%d')}, database: {env['DATABASE_URL'].split('://')[0]}, cache: "
          f"{'redis' if os.environ.get('REDIS_URL') else 'local memory'}, about {cases_total:,} cases, "
          f"gunicorn: {args.instances} x {args.workers} sync workers, wrk: 2 threads, {args.connections} connections, "
          f"{args.seconds} s per run, median of {args.rounds} round(s), {os.cpu_count()} cores")
    print(f"trivial view queries: staff {queries['trivial (staff)']}, customer {queries['trivial (customer)']}, "
          f"anonymous {queries['trivial (none)']}\n")
    print("| page | cookie | queries | req/s | trivial req/s | ratio | p50 ms | p99 ms |")
    print("|---|---|---|---|---|---|---|---|")
    for page in pages:
        runs = results[page["name"]]
        median = {key: statistics.median(run[key] for run in runs) for key in ("rps", "trivial", "ratio", "p50", "p99")}
        print(f"| {page['name']} | {page['who']} | {queries[page['name']]} | {median['rps']:.0f} | {median['trivial']:.0f} | "
              f"{median['ratio']:.3f} | {median['p50']:.1f} | {median['p99']:.1f} |")


if __name__ == "__main__":
    main()
