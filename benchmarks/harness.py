"""What the HTTP benchmarks share: a throwaway demo site under gunicorn, and wrk to drive it.

Each benchmark prepares the database its own way (``manage``), then serves it (``serve``) and
measures with ``wrk``. The site listens on 127.0.0.1 only; the scratch folder (a SQLite file
unless DATABASE_URL is set) is removed afterwards.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def cpu_seconds(pid: int | None = None) -> float:
    """CPU seconds (user + system) of a process, or of the whole machine (every core) when ``pid`` is None."""
    ticks = os.sysconf("SC_CLK_TCK")
    if pid is None:
        busy = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
        return (sum(map(int, busy)) - int(busy[3]) - int(busy[4])) / ticks  # all but idle and iowait
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / ticks


def postgres_cpu_seconds() -> float:
    """CPU seconds of every PostgreSQL server process on this machine (backends come and go; each counts while it lives)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # the process ended
        if text.split(" (", 1)[1].startswith("postgres)"):
            total += cpu_seconds(int(stat.parent.name))
    return total


def process_status(pid: int) -> dict[str, int]:
    """Return a process's peak resident memory in MiB (``VmHWM``) and its thread count now, from ``/proc``."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return {"peak_mib": int(fields["VmHWM"].split()[0]) // 1024, "threads": int(fields["Threads"])}


def wait_until_started(processes, *, limit: float = 120.0) -> float:
    """Wait until every process has started (a second of near-idle CPU: imports and system checks done); return the seconds.

    A fixed sleep is not enough on a loaded machine: a worker still importing the URLconf when
    the clock starts puts its start-up into the figure.
    """
    began = time.monotonic()
    last = {p.pid: cpu_seconds(p.pid) for p in processes}
    while time.monotonic() - began < limit:
        time.sleep(1)
        now = {p.pid: cpu_seconds(p.pid) for p in processes}
        if any(p.poll() is not None for p in processes):
            raise SystemExit("a worker exited while starting")
        if all(now[pid] - last[pid] < 0.1 for pid in now):
            return time.monotonic() - began
        last = now
    raise SystemExit(f"the workers were still busy starting after {limit:.0f} s")


def require_wrk() -> None:
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk)")


@contextmanager
def scratch_env(settings: str = "benchmarks.settings", **extra: str):
    """Yield ``(env, folder)``: the environment for ``manage``/``serve`` and a scratch folder removed afterwards."""
    tmp = tempfile.mkdtemp()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": settings, "PYTHONPATH": str(ROOT), **extra}
    env.setdefault("DATABASE_URL", f"sqlite:///{tmp}/bench.sqlite3")
    try:
        yield env, tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def manage(env: dict, *args: str) -> str:
    """Run ``manage.py`` with ``args`` and return what it printed (a failure stops the benchmark, saying why)."""
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"manage.py {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout


# The tables a breach notice fills: what autoanalyze would keep current during a notice benchmark.
NOTICE_TABLES = ["notifications_delivery", "notifications_deliveryattempt", "notifications_notification",
                 "django_tasks_database_dbtaskresult", "cases_organization", "cases_affectedcustomer",
                 "notifications_webhookendpoint"]


def analyze_once(env: dict) -> bool:
    """ANALYZE the whole database once, if it is PostgreSQL with autovacuum off; return whether it did.

    Seeded tables otherwise keep the statistics of empty ones on this machine, where no deployment
    would (``autoanalyze`` says why).
    """
    if not env.get("DATABASE_URL", "").startswith("postgres"):
        return False
    import psycopg

    with psycopg.connect(env["DATABASE_URL"], autocommit=True) as connection:
        if connection.execute("SHOW autovacuum").fetchone()[0] == "on":
            return False
        connection.execute("ANALYZE")
    return True


@contextmanager
def autoanalyze(env: dict, tables: list[str], *, every: float = 5.0):
    """ANALYZE ``tables`` every ``every`` seconds while the block runs, if PostgreSQL's autovacuum is off.

    Production PostgreSQL (and every managed one) runs autovacuum, whose autoanalyze keeps the
    statistics of a fast-growing table near the truth. This machine's server runs with it off: the
    tables a benchmark fills from empty keep the statistics of empty tables, and plans made from
    them (a sequential scan to check each foreign key, say) slow the correlator down quadratically,
    which no deployment would see. Yield whether it stood in for autovacuum.
    """
    if not env.get("DATABASE_URL", "").startswith("postgres"):
        yield False
        return
    import threading

    import psycopg

    with psycopg.connect(env["DATABASE_URL"], autocommit=True) as connection:
        if connection.execute("SHOW autovacuum").fetchone()[0] == "on":
            yield False
            return
        stop = threading.Event()

        def analyze():
            while not stop.wait(every):
                connection.execute(f"ANALYZE {', '.join(tables)}")

        thread = threading.Thread(target=analyze, daemon=True)
        thread.start()
        try:
            yield True
        finally:
            stop.set()
            thread.join()


@contextmanager
def serve(env: dict, *, port: int, workers: int, threads: int | None = None):
    """Run gunicorn on 127.0.0.1:``port`` (``threads`` per worker: gthread); yield its base URL once it answers."""
    command = [sys.executable, "-m", "gunicorn", "benchmarks.wsgi", "-b", f"127.0.0.1:{port}", "-w", str(workers)]
    if threads is not None:
        command += ["--threads", str(threads)]
    server = subprocess.Popen([*command, "--log-level", "warning"], cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(50):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait()


def wrk(url: str, *, seconds: int, connections: int, headers=(), script: str | None = None,
        timeout: str | None = None) -> float:
    """Drive ``url`` with wrk (2 threads) and return requests per second; stop on any non-2xx/3xx response."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s"]
    if timeout:
        command += ["--timeout", timeout]
    for header in headers:
        command += ["-H", header]
    if script:
        command += ["-s", script]
    out = subprocess.run([*command, url], check=True, capture_output=True, text=True).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non_2xx:
        raise SystemExit(f"{url}: {non_2xx.group(1)} failed responses\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
