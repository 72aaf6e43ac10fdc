"""Email delivery throughput: worker processes working a breach or an update, beside a bare smtplib loop.

Usage (PostgreSQL is what the figures are for):
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/irt_bench .venv/bin/python benchmarks/notify_smtp.py \\
      --scenario update --workers 1 2 4              # 5,000 organisations x 2 contacts: 10,000 emails
  DATABASE_URL=… .venv/bin/python benchmarks/notify_smtp.py --scenario breach --workers 4
                                                     # 100,000 organisations x 2 contacts: 200,000 emails
  add --scale 0.01 for a quick run (1 % of the organisations).

Starts an aiosmtpd sink on 127.0.0.1 that records the Message-ID of every message it accepts.
For each worker count N, a fresh case affects the organisations; N ``manage.py run_worker``
processes (each its own database connection) are started and left to settle, then the outbox
write runs as production runs it (``notify_breach`` / ``notify_update`` in one transaction, timed
with its query count) and commits; its on-commit hook queues the fan-out task, the workers run it
and the drains it queues. The clock stops when the sink holds every delivery's Message-ID. Each
run asserts exactly-once by Message-ID, zero lost, every delivery ``delivered`` and, for a breach,
every organisation stamped notified at one of its own deliveries and the deadline met. The same
run sends messages of the same size with a bare ``smtplib`` loop on one connection to the same sink.
Give it a database of its own: it ends whatever an interrupted earlier run left queued there.
Uses a throwaway SQLite file without DATABASE_URL (the workers then wait on its one write lock).
"""

import argparse
import os
import platform
import re
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.harness import NOTICE_TABLES, autoanalyze, wait_until_started  # noqa: E402

SCENARIOS = {"update": 5_000, "breach": 100_000}
MESSAGE_ID = re.compile(rb"^Message-ID:\s*<([^@>]+)@", re.IGNORECASE | re.MULTILINE)


class Sink:
    """An SMTP server that keeps only each message's Message-ID."""

    def __init__(self):
        self.ids = Counter()
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        found = MESSAGE_ID.search(envelope.content)
        with self.lock:
            self.ids[found.group(1).decode() if found else "?"] += 1
        return "250 OK"

    def take(self) -> Counter:
        with self.lock:
            ids, self.ids = self.ids, Counter()
        return ids

    def total(self) -> int:
        with self.lock:
            return sum(self.ids.values())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def setup(tmp: str, port: int) -> dict:
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{tmp}/bench.sqlite3")
    os.environ.update({"EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend", "EMAIL_HOST": "127.0.0.1",
                       "EMAIL_PORT": str(port), "EMAIL_USE_TLS": "0", "DJANGO_SETTINGS_MODULE": "benchmarks.settings",
                       "LOG_LEVEL": "WARNING"})
    import django

    django.setup()  # benchmarks.settings writes throwaway signing keys into os.environ: the workers share them
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return dict(os.environ)


def abandon_earlier_runs() -> int:
    """End what an interrupted earlier run left queued, so it is not counted in this one (a benchmark database only)."""
    from django_tasks_db.models import DBTaskResult

    from notifications.models import Delivery

    DBTaskResult.objects.filter(status="READY").delete()
    return Delivery.objects.filter(status="pending").exclude(channel="inbox").update(
        status="dead", lease_until=None, last_error="Abandoned by a later benchmark run.")


def make_organisations(count: int, run: str) -> list:
    from cases.models import Organization

    orgs = []
    for start in range(0, count, 5000):
        orgs += Organization.objects.bulk_create(
            Organization(name=f"Bench {run} {i}", slug=f"bench-{run}-{i}",
                         security_contacts=f"sec@b{i}.{run}.example\nciso@b{i}.{run}.example")
            for i in range(start, min(count, start + 5000)))
    return orgs


def make_case(orgs, scenario: str, label: str):
    """Return a case affecting ``orgs`` (declared a breach for that scenario) and its published update."""
    from datetime import timedelta

    from django.conf import settings
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from cases.models import AffectedCustomer, Case, Deadline, IncidentUpdate, User

    manager, _ = User.objects.get_or_create(username="bench-manager")
    manager.groups.add(Group.objects.get(name="Incident managers"))
    now = timezone.now()
    case = Case.objects.create(reference=f"IRT-2099-{label}", title="Benchmark", created_by=manager, owner=manager,
                               detected_at=now, breach_declared_at=now if scenario == "breach" else None)
    for start in range(0, len(orgs), 5000):
        AffectedCustomer.objects.bulk_create(
            AffectedCustomer(case=case, organization=o, data_disclosed=True, added_by=manager, impact_statement="Objects read.",
                             confirmed_at=now) for o in orgs[start:start + 5000])
    if scenario == "breach":
        Deadline.objects.create(case=case, kind=Deadline.Kind.CUSTOMER_NOTICE, started_at=now,
                                due_at=now + timedelta(hours=settings.IRT_NOTIFY_WITHIN_HOURS))
    update = IncidentUpdate.objects.create(case=case, public_title="Benchmark notice", what_happened="Data was read.",
                                           what_we_are_doing="Rolled back.", what_you_should_do="Rotate keys.",
                                           author=manager, published_at=now)
    return case, update


def write_outbox(case, update, scenario: str):
    """Write the notification and its deliveries as production does; return it, the seconds and the queries."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from notifications.services.outbox import notify_breach, notify_update

    started = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        with transaction.atomic():  # its on-commit hook queues the fan-out task for the workers
            notification = notify_breach(case=case, update=update) if scenario == "breach" else notify_update(case=case, update=update)[0]
    return notification, time.perf_counter() - started, len(queries)


def start_workers(count: int, env: dict, logs: Path) -> list:
    return [subprocess.Popen([sys.executable, "manage.py", "run_worker", "--no-startup-delay", "--interval", "0.1"], cwd=ROOT,
                             env=env, stdout=(logs / f"worker{n}.log").open("w"), stderr=subprocess.STDOUT)
            for n in range(count)]


def stop(processes) -> None:
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()


def assert_each_delivered_once(notification, channel: str, received: Counter, what: str):
    """Assert every ``channel`` delivery of ``notification`` arrived exactly once by its id, none lost; return the rows."""
    from django.db.models import Count

    from notifications.models import Delivery

    rows = Delivery.objects.filter(notification=notification, channel=channel)
    expected = {str(pk) for pk in rows.values_list("pk", flat=True)}
    assert set(received) == expected, f"{len(expected - set(received))} lost, {len(set(received) - expected)} unexpected"
    twice = [pk for pk, n in received.items() if n != 1]
    assert not twice, f"{len(twice)} {what} received more than once, e.g. {twice[:3]}"
    assert dict(rows.values_list("status").annotate(n=Count("pk"))) == {"delivered": len(expected)}
    return rows


def assert_breach_notified(notification, rows) -> None:
    """Assert every organisation was stamped notified at a moment one of its ``rows`` landed, and the deadline met."""
    from cases.models import AffectedCustomer, Deadline

    case = notification.case
    deadline = Deadline.objects.get(case=case)
    assert not AffectedCustomer.objects.filter(case=case, notified_at__isnull=True).exists(), "an organisation not notified"
    assert not AffectedCustomer.objects.filter(case=case, notified_at__gt=deadline.due_at).exists(), "a notice after its deadline"
    stamped = set(AffectedCustomer.objects.filter(case=case).values_list("organization_id", "notified_at"))
    assert stamped <= set(rows.values_list("organization_id", "delivered_at")), "stamped notified at a time no notice landed"
    deadline.refresh_from_db()
    assert deadline.met_at is not None, "the customer-notice deadline is not met"


def check(notification, received: Counter, scenario: str) -> int:
    """Assert exactly once by Message-ID, nothing lost, and (breach) every organisation notified; return the count."""
    rows = assert_each_delivered_once(notification, "email", received, "Message-IDs")
    if scenario == "breach":
        assert_breach_notified(notification, rows)
    return rows.count()


def bare_smtplib(port: int, count: int, sample: bytes) -> float:
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for i in range(count):
            smtp.sendmail("irt@localhost", [f"sec@b{i}.example"], sample.replace(b"Message-ID: <", f"Message-ID: <bare{i}-".encode(), 1))
    return time.perf_counter() - started


def sample_message(notification) -> bytes:
    from notifications.models import Delivery
    from notifications.services import rendering

    delivery = Delivery.objects.filter(notification=notification, channel="email").first()
    rendering.Batch([delivery])
    return rendering.build_email(delivery).message().as_bytes(linesep="\r\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="update",
                        help="update: 5,000 organisations; breach: 100,000 organisations (2 contacts each)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the organisations by this (0.01: a quick run)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4], help="worker processes, one run each")
    parser.add_argument("--bare-count", type=int, default=10_000, help="messages in the bare smtplib loop")
    parser.add_argument("--timeout", type=int, default=3600, help="give up on a run after this many seconds")
    args = parser.parse_args()

    from aiosmtpd.controller import Controller

    sink, port = Sink(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        env = setup(tmp, port)
        if stack.enter_context(autoanalyze(env, NOTICE_TABLES)):
            print("autovacuum is off on this server: the notice tables are ANALYZEd every 5 s, as autoanalyze would")
        from django.conf import settings
        from django.db import connection

        from notifications.models import Delivery

        abandoned = abandon_earlier_runs()
        organisations = max(1, round(SCENARIOS[args.scenario] * args.scale))
        run = f"{int(time.time()) % 100000}"
        print(f"{time.strftime('%Y-%m-%d %H:%M')}; Python {platform.python_version()}, {os.cpu_count()} CPUs, {connection.vendor} "
              f"{'.'.join(map(str, connection.get_database_version()))}; load {os.getloadavg()[0]:.1f}; {args.scenario}, "
              f"{organisations} organisations x 2 contacts; batch {settings.IRT_NOTIFY_BATCH_SIZE}, "
              f"{settings.IRT_NOTIFY_DRAIN_TASKS} drain tasks; {abandoned} deliveries of earlier runs abandoned", flush=True)
        started = time.perf_counter()
        orgs = make_organisations(organisations, run)
        print(f"setup: {organisations} organisations in {time.perf_counter() - started:.1f} s", flush=True)

        results = []
        bare_rate = None
        for number, workers in enumerate(args.workers):
            case, update = make_case(orgs, args.scenario, f"{run}{number}")
            processes = start_workers(workers, env, Path(tmp))
            wait_until_started(processes)  # they poll an empty queue once started
            sink.take()
            notification, outbox_seconds, queries = write_outbox(case, update, args.scenario)
            began = time.perf_counter()
            expected = Delivery.objects.filter(notification=notification, channel="email").count()
            try:
                while sink.total() < expected:
                    if time.perf_counter() - began > args.timeout:
                        raise SystemExit(f"timed out with {sink.total()} of {expected} messages received")
                    if any(p.poll() is not None for p in processes):
                        raise SystemExit(f"a worker exited; see {tmp}/worker*.log")
                    time.sleep(0.05)
                elapsed = time.perf_counter() - began
                # Let the last batch's record commit before checking the database.
                deadline = time.perf_counter() + 60
                while (Delivery.objects.filter(notification=notification, channel="email").exclude(status="delivered").exists()
                       and time.perf_counter() < deadline):
                    time.sleep(0.2)
                time.sleep(1)  # a duplicate send would arrive now
            finally:
                stop(processes)
            count = check(notification, sink.take(), args.scenario)
            if bare_rate is None:
                sample = sample_message(notification)
                bare_count = min(args.bare_count, max(count, 1000))
                # The best of three loops: the machine's speed drifts, and the goal is judged against its best.
                bare_rate = max(bare_count / bare_smtplib(port, bare_count, sample) for _ in range(3))
                sink.take()
                print(f"message size {len(sample)} bytes; bare smtplib loop, 1 connection, best of 3: {bare_count} in "
                      f"{bare_count / bare_rate:.2f} s, {bare_rate:.0f} msg/s", flush=True)
            rate = count / elapsed
            results.append((workers, count, outbox_seconds, queries, elapsed, rate))
            print(f"{workers} worker process(es): outbox write {outbox_seconds:.2f} s ({queries} queries); {count} emails "
                  f"delivered in {elapsed:.1f} s from commit, {rate:.0f} msg/s ({rate / bare_rate:.2f}x bare smtplib); "
                  f"exactly once by Message-ID, none lost; load {os.getloadavg()[0]:.1f}", flush=True)
        print("\n| workers | emails | outbox write | delivery | msg/s | vs bare smtplib |\n|---|---|---|---|---|---|")
        for workers, count, outbox_seconds, queries, elapsed, rate in results:
            print(f"| {workers} | {count:,} | {outbox_seconds:.2f} s, {queries} queries | {elapsed:.1f} s | {rate:,.0f} | "
                  f"{rate / bare_rate:.2f}x of {bare_rate:,.0f} |")
    controller.stop()


if __name__ == "__main__":
    main()
