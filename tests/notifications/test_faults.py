"""Fault tests: the database stops under a running worker in the middle of a breach fan-out.

A PostgreSQL cluster of the test's own (another port, a temporary folder) is stopped and started
again while ``manage.py run_worker`` and ``notify_sweep --loop`` run against it and a real SMTP
server (aiosmtpd) receives the notices. Nobody restarts anything: every notice must arrive
exactly once by Message-ID. Run alone with ``pytest -m fault``; ``IRT_FAULT_RECIPIENTS`` sets
the size of the fan-out (``IRT_FAULT_RECIPIENTS=500`` for the issue's figure) and
``IRT_FAULT_WORKERS`` the number of worker processes.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import pytest
from django.db import connection

from tests.notifications.conftest import Sink, free_port

ROOT = Path(__file__).resolve().parent.parent.parent
PG_BIN = Path("/usr/lib/postgresql/15/bin")
# 500 (the figure) took 193 s on the 2-core development machine; CI runs a smaller default.
RECIPIENTS = int(os.environ.get("IRT_FAULT_RECIPIENTS", "100"))
WORKERS = int(os.environ.get("IRT_FAULT_WORKERS", "2"))
OUTAGE_SECONDS = 8
DEADLINE_SECONDS = 240

pytestmark = [
    pytest.mark.fault,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the fault tests stop a PostgreSQL cluster of their own"),
    pytest.mark.skipif(not (PG_BIN / "pg_ctl").exists() or shutil.which("runuser") is None,
                       reason="needs PostgreSQL 15's pg_ctl and runuser"),
]


def as_postgres(*command, check=True, **kwargs):
    """Run a PostgreSQL binary as the postgres OS user (the server refuses to run as root)."""
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run([*prefix, *map(str, command)], check=check, capture_output=True, text=True, timeout=120, **kwargs)


class PrivateCluster:
    """A throwaway PostgreSQL cluster on a free port, with trust authentication on loopback."""

    def __init__(self):
        self.folder = Path(tempfile.mkdtemp(prefix="irt-fault-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        as_postgres(PG_BIN / "initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "--no-sync")

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/irt_fault"

    def start(self):
        as_postgres(PG_BIN / "pg_ctl", "-D", self.data, "-l", self.folder / "server.log", "-w", "start", "-o",
                    f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off")

    def stop(self, mode="fast"):
        as_postgres(PG_BIN / "pg_ctl", "-D", self.data, "-m", mode, "-w", "stop", check=False)

    def remove(self):
        self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)

    def query(self, sql: str) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.url.replace("postgres://", "postgresql://"), connect_timeout=5) as db:
            return db.execute(sql).fetchall()


@pytest.fixture
def cluster():
    server = PrivateCluster()
    server.start()
    as_postgres(PG_BIN / "createdb", "-h", "127.0.0.1", "-p", server.port, "-U", "postgres", "irt_fault")
    yield server
    server.remove()


@pytest.fixture
def sink():
    # 50 ms a message, so batched workers are still sending when the database stops (at full speed
    # the whole fan-out can be over before the test's first look at the sink).
    receiver = Sink(free_port(), delay=0.05)
    receiver.start()
    yield receiver
    receiver.stop()


def environment(cluster, sink, evidence_dir) -> dict:
    return {
        **os.environ, "DJANGO_SETTINGS_MODULE": "irt.settings", "DEBUG": "1", "DATABASE_URL": cluster.url,
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend", "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(sink.port), "EMAIL_USE_TLS": "0", "EMAIL_TIMEOUT": "5",
        "IRT_DB_CONNECT_TIMEOUT": "2", "IRT_WORKER_BACKOFF_MAX_SECONDS": "2",
        "IRT_NOTIFY_RETRY_BASE_SECONDS": "1", "IRT_NOTIFY_RETRY_MAX_SECONDS": "5", "IRT_NOTIFY_LEASE_SECONDS": "30",
        "IRT_NOTIFY_REQUEUE_AFTER_SECONDS": "30", "IRT_NOTIFY_SWEEP_SECONDS": "5", "LOG_LEVEL": "WARNING",
        # Small batches: claims, records and drains' successors all meet the outage.
        "IRT_NOTIFY_BATCH_SIZE": "10",
        # The sweeper writes signed timeline checkpoints; they belong to this throwaway cluster, not var/evidence.
        "IRT_EVIDENCE_DIR": str(evidence_dir),
    }


def manage(env, *args, **kwargs):
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True,
                          text=True, timeout=300, **kwargs)


def start(env, log: Path, *args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "manage.py", *args], cwd=ROOT, env=env, stdout=log.open("w"),
                            stderr=subprocess.STDOUT)


def message_ids(sink) -> Counter:
    return Counter(message["Message-ID"].strip("<>").split("@")[0] for _, message in list(sink.messages))


def wait_for(condition, *, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {seconds:.0f} s waiting for {what}")


def test_breach_notices_survive_a_database_restart_under_a_running_worker(cluster, sink, tmp_path):
    env = environment(cluster, sink, tmp_path / "evidence")
    manage(env, "migrate", "--noinput")
    manage(env, "shell", "-c", "from tests.notifications.fault_scenario import declare_breach_with_recipients as d; "
                               f"d({RECIPIENTS})")
    expected = {str(row[0]) for row in cluster.query(
        "SELECT id FROM notifications_delivery WHERE channel = 'email' AND notification_id IN "
        "(SELECT id FROM notifications_notification WHERE kind = 'breach_notice')")}
    assert len(expected) == RECIPIENTS

    workers = [start(env, tmp_path / f"worker{n}.log", "run_worker", "--no-startup-delay", "--interval", "0.2")
               for n in range(WORKERS)]
    sweeper = start(env, tmp_path / "sweeper.log", "notify_sweep", "--loop", "2")
    processes = [*workers, sweeper]
    started = time.monotonic()
    try:
        wait_for(lambda: len(message_ids(sink)) >= RECIPIENTS // 5, seconds=120, what="the first notices")
        cluster.stop("fast")  # terminates every session, as a restart or failover does
        sent_before_outage = len(message_ids(sink))
        time.sleep(OUTAGE_SECONDS)
        assert all(p.poll() is None for p in processes), "a process died with the database"
        cluster.start()
        wait_for(lambda: expected <= set(message_ids(sink)), seconds=DEADLINE_SECONDS, what="every notice")
        elapsed = time.monotonic() - started
        # A second outage while the workers are idle, polling the queue: the worker loop itself (not
        # a task recording its result) meets the lost database, which ended the stock db_worker.
        cluster.stop("fast")
        time.sleep(5)
        cluster.start()
        time.sleep(3)
        assert all(p.poll() is None for p in processes), "nobody may have to restart the workers or the sweeper"
        for n in range(WORKERS):
            assert "the database is unavailable" in (tmp_path / f"worker{n}.log").read_text()
    finally:
        for process in processes:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
    received = message_ids(sink)
    breach_notices = {pk: count for pk, count in received.items() if pk in expected}
    assert set(breach_notices) == expected, "a notice was lost"
    assert [pk for pk, count in breach_notices.items() if count != 1] == [], "a notice was sent twice"
    assert sent_before_outage < RECIPIENTS, "the outage came after the fan-out had finished"
    states = dict(cluster.query("SELECT status, count(*) FROM notifications_delivery WHERE channel = 'email' "
                                "AND notification_id IN (SELECT id FROM notifications_notification WHERE kind = 'breach_notice') "
                                "GROUP BY status"))
    assert states == {"delivered": RECIPIENTS}
    print(f"\n{RECIPIENTS} notices, {sent_before_outage} before a {OUTAGE_SECONDS} s outage, all delivered once "
          f"{elapsed:.0f} s after {WORKERS} workers started")
