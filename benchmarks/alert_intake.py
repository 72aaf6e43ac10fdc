"""Alerts per second through the API: single posts and bulk posts of 500, beside the trivial view.

Usage: .venv/bin/python benchmarks/alert_intake.py [--seconds 10] [--workers 2] [--threads 1] [--connections 16] [--syncdb]

Starts gunicorn (production-like settings, DEBUG off) on 127.0.0.1 only, loads the demo data,
makes an alerts:write token for the demo connector, and drives three URLs with wrk (apt-get
install wrk), each for a bounded time: the trivial view, POST /api/v1/alerts/ with a new
source_ref per request (first receipts, not replays), and POST /api/v1/alerts/bulk/ with 500
new alerts per request. The database is ANALYZEd after seeding. Uses DATABASE_URL when set (PostgreSQL is what the figures are for),
else a throwaway SQLite file. ``--syncdb`` builds the schema from the models instead of migrations.
"""

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import manage, require_wrk, scratch_env, serve, wrk  # noqa: E402

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
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    # Threads per worker (gunicorn's gthread): intake waits on the database, the trivial view does not.
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--syncdb", action="store_true")
    args = parser.parse_args()
    require_wrk()
    settings = "benchmarks.settings_syncdb" if args.syncdb else "benchmarks.settings"
    with scratch_env(settings, IRT_API_RATE="100000000/min") as (env, tmp):
        manage(env, "migrate", "-v0", *(["--run-syncdb"] if args.syncdb else []))
        manage(env, "seed_demo")
        # Statistics, as autovacuum keeps them on a database in use: on a database filled a moment ago
        # the planner believes the triage queue empty and walks every waiting group per alert.
        manage(env, "shell", "-c", "from django.db import connection; connection.cursor().execute('ANALYZE')")
        token = manage(
            env, "create_api_token", "--user", "sentinel-connector", "--scope", "alerts:write", "--name", "bench", "--days", "1",
        ).strip().splitlines()[-1]
        headers = [f"Authorization: Bearer {token}", "Content-Type: application/json"]
        with serve(env, port=PORT, workers=args.workers, threads=args.threads) as base:
            load = {"seconds": args.seconds, "timeout": "10s"}
            trivial = wrk(f"{base}/bench/trivial", connections=args.connections, **load)
            single = wrk(f"{base}/api/v1/alerts/", connections=args.connections, headers=headers,
                         script=script_for(tmp, 1), **load)
            # Fewer connections for bulk: each request is 500 inserts; more would only queue.
            bulk = wrk(f"{base}/api/v1/alerts/bulk/", connections=max(2, args.workers * 2), headers=headers,
                       script=script_for(tmp, BULK), **load)
    database = env["DATABASE_URL"].split("://")[0]
    print(f"database: {database}, gunicorn workers: {args.workers} x {args.threads} thread(s), wrk: 2 threads, {args.connections} connections, {args.seconds}s each")
    print(f"trivial view:        {trivial:8.0f} req/s")
    print(f"single alert posts:  {single:8.0f} alerts/s ({single / trivial:.2f} of the trivial view)")
    print(f"bulk posts of {BULK}:  {bulk * BULK:8.0f} alerts/s ({bulk:.1f} req/s)")


if __name__ == "__main__":
    main()
