"""Alerts per second through the API: single posts and bulk posts of 500, beside the trivial view.

Usage: .venv/bin/python benchmarks/alert_intake.py [--seconds 10] [--rounds 3] [--workers 2*cores+1] [--threads 1] [--connections 16]
       [--correlation inline|deferred] [--correlators 1] [--syncdb]

Starts gunicorn (production-like settings, DEBUG off) on 127.0.0.1 only, loads the demo data,
makes an alerts:write token for the demo connector, and drives three URLs with wrk (apt-get
install wrk), each for a bounded time: the trivial view, POST /api/v1/alerts/ with a new
source_ref per request (first receipts, not replays), and POST /api/v1/alerts/bulk/ with 500
new alerts per request. The trivial view and single posts alternate in ``--rounds`` A/B rounds and
the median ratio is reported (with the lowest); bulk runs once. The database is ANALYZEd after seeding. Uses DATABASE_URL when set (PostgreSQL is what the figures are for),
else a throwaway SQLite file. ``--syncdb`` builds the schema from the models instead of migrations.

``--correlation deferred`` runs intake as production does at high rates (IRT_ALERT_CORRELATION):
``--correlators`` ``correlate_alerts --loop`` processes group the alerts while wrk posts them, and
the benchmark reports how long the backlog took to drain after the last post, so the figure for
intake is never bought with alerts left ungrouped. On a server with autovacuum off (this machine's),
the alert tables are ANALYZEd every 5 s while it runs, standing in for autoanalyze (``harness.autoanalyze``).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import ROOT, autoanalyze, manage, require_wrk, scratch_env, serve, wrk  # noqa: E402

PORT = 8766
BULK = 500

ALERT = {
    "source": "custom", "title": "Benchmark detection", "severity": "high", "observed_at": "2026-03-02T08:00:00Z",
    "description": "Sign-ins from two continents within ten minutes.",
    # Indicators differ per alert (SOURCE_REF is replaced), as in a real stream; a stream where every
    # alert joins one group measures that group's row lock instead (see docs/benchmarks.md).
    "observables": [{"kind": "domain", "value": "SOURCE_REF.bench.example"}],
    "resources": ["/subscriptions/8f2e6c1a-44b7-4d3a-9c55-abcdef012345/resourceGroups/SOURCE_REF"],
    "raw": {"rule": "impossible-travel", "score": 87},
}

# wrk Lua: every request carries new source_refs (thread id + counter), so each alert is a first receipt.
LUA = """
local counter = 0
local thread_id = 0
local threads = 0
function setup(thread) threads = threads + 1; thread:set("thread_id", threads) end
local pieces = %(pieces)s
local bulk = %(bulk)d
request = function()
  local parts = {}
  for i = 1, bulk do
    counter = counter + 1
    parts[i] = table.concat(pieces, "bench-" .. thread_id .. "-" .. counter)
  end
  local body = table.concat(parts, ",")
  if bulk > 1 then body = '{"alerts":[' .. body .. ']}' end
  return wrk.format("POST", nil, nil, body)
end
"""


def lua_string(text: str) -> str:
    return "[==[" + text + "]==]"


def script_for(tmp: str, bulk: int) -> str:
    marker = "SOURCE_REF"
    text = json.dumps({**ALERT, "source_ref": marker}, separators=(",", ":"))
    pieces = "{" + ", ".join(lua_string(piece) for piece in text.split(marker)) + "}"
    path = Path(tmp) / f"post-{bulk}.lua"
    path.write_text(LUA % {"pieces": pieces, "bulk": bulk})
    return str(path)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    # Gunicorn's own advice for sync workers, (2 x cores) + 1: a worker waiting on PostgreSQL's commit leaves its
    # core to another (README, "Running in production"). --workers 2 is the figure of earlier reports.
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--rounds", type=int, default=3, help="A/B rounds of the trivial view and single posts")
    parser.add_argument("--connections", type=int, default=16)
    # Threads per worker (gunicorn's gthread): intake waits on the database, the trivial view does not.
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--syncdb", action="store_true")
    parser.add_argument("--correlation", choices=["inline", "deferred"], default="inline")
    parser.add_argument("--correlators", type=int, default=1, help="correlate_alerts processes (deferred only)")
    args = parser.parse_args()
    require_wrk()
    settings = "benchmarks.settings_syncdb" if args.syncdb else "benchmarks.settings"
    with scratch_env(settings, IRT_API_RATE="100000000/min", IRT_ALERT_CORRELATION=args.correlation) as (env, tmp):
        manage(env, "migrate", "-v0", *(["--run-syncdb"] if args.syncdb else []))
        manage(env, "seed_demo")
        # Statistics, as autovacuum keeps them on a database in use: on a database filled a moment ago
        # the planner believes the triage queue empty and walks every waiting group per alert.
        manage(env, "shell", "-c", "from django.db import connection; connection.cursor().execute('ANALYZE')")
        token = manage(
            env, "create_api_token", "--user", "sentinel-connector", "--scope", "alerts:write", "--name", "bench", "--days", "1",
        ).strip().splitlines()[-1]
        headers = [f"Authorization: Bearer {token}", "Content-Type: application/json"]
        correlators = [
            subprocess.Popen([sys.executable, "manage.py", "correlate_alerts", "--loop", "0.2"], cwd=ROOT, env=env)
            for _ in range(args.correlators if args.correlation == "deferred" else 0)
        ]
        filled = ["cases_alert", "cases_alertgroup", "cases_alertgroupindicator", "cases_observable",
                  "cases_alert_observables", "cases_alertresource"]
        try:
            with autoanalyze(env, filled) as standing_in, serve(env, port=PORT, workers=args.workers, threads=args.threads) as base:
                load = {"seconds": args.seconds, "timeout": "10s"}
                # A/B rounds: the machine's speed drifts between runs (the trivial view alone has answered
                # 2,100 and 4,300 req/s a minute apart here), so each round's ratio is taken, and the median.
                rounds = []
                for _ in range(args.rounds):
                    trivial = wrk(f"{base}/bench/trivial", connections=args.connections, **load)
                    single = wrk(f"{base}/api/v1/alerts/", connections=args.connections, headers=headers,
                                 script=script_for(tmp, 1), **load)
                    rounds.append((trivial, single))
                trivial, single = (statistics.median(run[i] for run in rounds) for i in (0, 1))
                ratio = statistics.median(single / trivial for trivial, single in rounds)
                single_drain = drain(env)
                # Fewer connections for bulk: each request is 500 inserts; more would only queue.
                bulk = wrk(f"{base}/api/v1/alerts/bulk/", connections=max(2, args.workers * 2), headers=headers,
                           script=script_for(tmp, BULK), **load)
                bulk_drain = drain(env)
        finally:
            for process in correlators:
                process.terminate()
                process.wait()
    database = env["DATABASE_URL"].split("://")[0]
    print(f"database: {database}, gunicorn workers: {args.workers} x {args.threads} thread(s), wrk: 2 threads, "
          f"{args.connections} connections, {args.seconds}s each; correlation: {args.correlation}"
          + (f" ({args.correlators} correlator(s))" if args.correlation == "deferred" else ""))
    if standing_in:
        print("autovacuum is off on this server: the alert tables were ANALYZEd every 5 s, as autoanalyze would")
    for number, (each_trivial, each_single) in enumerate(rounds, 1):
        print(f"round {number}: trivial view {each_trivial:.0f} req/s, single alert posts {each_single:.0f} alerts/s "
              f"({each_single / each_trivial:.2f})")
    print(f"trivial view:        {trivial:8.0f} req/s (median of {len(rounds)} round(s))")
    print(f"single alert posts:  {single:8.0f} alerts/s (median); median ratio {ratio:.2f} of the trivial view, lowest "
          f"{min(s / t for t, s in rounds):.2f}{said(single_drain)}")
    print(f"bulk posts of {BULK}:  {bulk * BULK:8.0f} alerts/s ({bulk:.1f} req/s){said(bulk_drain)}")
    if args.correlation == "deferred":
        # Accepted is not grouped: the rate that counts is every alert grouped, from the first post on.
        posted = bulk * BULK * args.seconds
        print(f"bulk, end to end:    {posted / (args.seconds + bulk_drain):8.0f} alerts/s "
              f"({posted:.0f} alerts posted in {args.seconds} s and grouped {bulk_drain:.1f} s after the last post)")


def said(drained: float | None) -> str:
    return "" if drained is None else f"; every alert grouped {drained:.1f} s after the last post"


def drain(env: dict, *, limit: float = 600.0) -> float | None:
    """Wait until no alert waits for its group; return how long that took after the last post (None: inline)."""
    started = time.monotonic()
    while True:
        waiting = int(manage(env, "shell", "-c", "from cases.models import Alert; print(Alert.objects.filter(group__isnull=True).count())").split()[-1])
        if not waiting:
            return None if env["IRT_ALERT_CORRELATION"] == "inline" else time.monotonic() - started
        if time.monotonic() - started > limit:
            raise SystemExit(f"{waiting} alerts still ungrouped {limit:.0f} s after the last post")
        time.sleep(0.5)


if __name__ == "__main__":
    main()
