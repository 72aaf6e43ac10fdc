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
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
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


def wrk(url: str, seconds: int, connections: int, headers: list[str], script: str | None = None) -> float:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s"]
    for header in headers:
        cmd += ["-H", header]
    if script:
        cmd += ["-s", script]
    out = subprocess.run([*cmd, url], check=True, capture_output=True, text=True).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non_2xx:
        raise SystemExit(f"{url}: {non_2xx.group(1)} failed responses\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


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
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    tmp = tempfile.mkdtemp()
    settings = "benchmarks.settings_syncdb" if args.syncdb else "benchmarks.settings"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": settings, "PYTHONPATH": str(ROOT), "IRT_API_RATE": "100000000/min"}
    env.setdefault("DATABASE_URL", f"sqlite:///{tmp}/bench.sqlite3")
    python = sys.executable
    migrate = [python, "manage.py", "migrate", "-v0", *(["--run-syncdb"] if args.syncdb else [])]
    subprocess.run(migrate, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([python, "manage.py", "seed_demo"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    # Statistics, as autovacuum keeps them on a database in use: on a database filled a moment ago
    # the planner believes the triage queue empty and walks every waiting group per alert.
    analyze = "from django.db import connection; connection.cursor().execute('ANALYZE')"
    subprocess.run([python, "manage.py", "shell", "-c", analyze], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    token = subprocess.run(
        [python, "manage.py", "create_api_token", "--user", "sentinel-connector", "--scope", "alerts:write", "--name", "bench", "--days", "1"],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    ).stdout.strip().splitlines()[-1]
    server = subprocess.Popen(
        [python, "-m", "gunicorn", "benchmarks.wsgi", "-b", f"127.0.0.1:{PORT}", "-w", str(args.workers),
         "--threads", str(args.threads), "--log-level", "warning"],
        cwd=ROOT, env=env,
    )
    base = f"http://127.0.0.1:{PORT}"
    headers = [f"Authorization: Bearer {token}", "Content-Type: application/json"]
    try:
        for _ in range(50):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        trivial = wrk(f"{base}/bench/trivial", args.seconds, args.connections, [])
        single = wrk(f"{base}/api/v1/alerts/", args.seconds, args.connections, headers, script_for(tmp, 1))
        # Fewer connections for bulk: each request is 500 inserts; more would only queue.
        bulk = wrk(f"{base}/api/v1/alerts/bulk/", args.seconds, max(2, args.workers * 2), headers, script_for(tmp, BULK))
        database = env["DATABASE_URL"].split("://")[0]
        print(f"database: {database}, gunicorn workers: {args.workers} x {args.threads} thread(s), wrk: 2 threads, {args.connections} connections, {args.seconds}s each")
        print(f"trivial view:        {trivial:8.0f} req/s")
        print(f"single alert posts:  {single:8.0f} alerts/s ({single / trivial:.2f} of the trivial view)")
        print(f"bulk posts of {BULK}:  {bulk * BULK:8.0f} alerts/s ({bulk:.1f} req/s)")
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
