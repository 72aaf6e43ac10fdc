"""Email delivery throughput: ``deliver()`` with N worker threads vs a bare smtplib loop.

Usage: .venv/bin/python benchmarks/notify_smtp.py [--count 10000] [--workers 1 4 8]

Starts an aiosmtpd sink on 127.0.0.1 (it counts messages and discards them), writes one breach
notice (``--kind update``: an incident update) to ``count / 2`` organisations with two security contacts each (``count`` email
deliveries, through ``notify_breach``: the outbox write is timed too), then delivers them with
N threads calling ``notifications.services.delivery.deliver`` (claim under a lease, render the
three templates, SMTP, attempt row, mark delivered, and for the first notice per organisation
``record_customer_notified`` with its timeline event). Each thread keeps one SMTP connection
open, as a long-lived worker would; ``--fresh-connections`` opens one per message instead.
The same run sends ``count`` messages of the same size with a bare ``smtplib`` loop on one
connection. Uses a throwaway SQLite database unless DATABASE_URL is set.
"""

import argparse
import os
import platform
import queue
import smtplib
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


class CountingSink:
    def __init__(self):
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def setup(tmp: str, port: int):
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{tmp}/bench.sqlite3")
    os.environ["EMAIL_HOST"] = "127.0.0.1"
    os.environ["EMAIL_PORT"] = str(port)
    os.environ["EMAIL_USE_TLS"] = "0"
    os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def write_outbox(count: int, kind: str):
    from django.contrib.auth.models import Group
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from cases.models import AffectedCustomer, Case, IncidentUpdate, Organization, User
    from notifications.services.outbox import notify_breach, notify_update

    manager, _ = User.objects.get_or_create(username="bench-manager")
    manager.groups.add(Group.objects.get(name="Incident managers"))
    orgs = Organization.objects.bulk_create(
        Organization(name=f"Bench org {i}", slug=f"bench-{i}", security_contacts=f"sec@b{i}.example\nciso@b{i}.example")
        for i in range(count // 2)
    )
    now = timezone.now()
    case = Case.objects.create(reference="IRT-2099-0001", title="Benchmark", created_by=manager, owner=manager,
                               detected_at=now, breach_declared_at=now if kind == "breach" else None)
    AffectedCustomer.objects.bulk_create(AffectedCustomer(case=case, organization=o, data_disclosed=True, added_by=manager,
                                                          impact_statement="Objects read.", confirmed_at=now) for o in orgs)
    update = IncidentUpdate.objects.create(case=case, public_title="Benchmark notice", what_happened="Data was read.",
                                           what_we_are_doing="Rolled back.", what_you_should_do="Rotate keys.",
                                           author=manager, published_at=now)
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        if kind == "breach":
            notification = notify_breach(case=case, update=update)
        else:
            [notification] = notify_update(case=case, update=update)
    return notification, time.perf_counter() - started, len(queries)


def reset(notification):
    from notifications.models import Delivery, DeliveryAttempt
    from cases.models import AffectedCustomer

    rows = Delivery.objects.filter(notification=notification, channel="email")
    DeliveryAttempt.objects.filter(delivery__in=rows).delete()
    rows.update(status="pending", attempts=0, lease_until=None, lease_token=None, delivered_at=None)
    AffectedCustomer.objects.filter(case=notification.case).update(notified_at=None)
    return list(rows.values_list("pk", flat=True))


def run_workers(ids, workers: int, fresh: bool) -> float:
    from django.core.mail import get_connection
    from django.db import connection as db_connection

    from notifications.services.delivery import deliver

    work = queue.Queue()
    for pk in ids:
        work.put(pk)
    errors = []

    def worker():
        mail = None if fresh else get_connection()
        if mail is not None:
            mail.open()
        try:
            while True:
                try:
                    pk = work.get_nowait()
                except queue.Empty:
                    return
                status = deliver(pk, email_connection=mail)
                if status != "delivered":
                    errors.append((pk, status))
        finally:
            if mail is not None:
                mail.close()
            db_connection.close()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise SystemExit(f"{len(errors)} deliveries did not end delivered, e.g. {errors[:3]}")
    return elapsed


def bare_smtplib(port: int, count: int, sample: bytes) -> float:
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for i in range(count):
            smtp.sendmail("irt@localhost", [f"sec@b{i}.example"], sample)
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--fresh-connections", action="store_true")
    parser.add_argument("--kind", choices=["breach", "update"], default="breach",
                        help="breach: every first notice per organisation also runs record_customer_notified; "
                        "update: incident-update emails only")
    args = parser.parse_args()

    from aiosmtpd.controller import Controller

    sink = CountingSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    with tempfile.TemporaryDirectory() as tmp:
        setup(tmp, port)
        from django.db import connection

        from notifications.models import Delivery
        from notifications.services.delivery import build_email

        print(f"Python {platform.python_version()}, {os.cpu_count()} CPUs, {connection.vendor}, "
              f"load {os.getloadavg()[0]:.1f}; {args.count} emails")
        notification, seconds, queries = write_outbox(args.count, args.kind)
        print(f"outbox write ({args.kind}, {args.count} deliveries): {seconds:.2f} s, {queries} queries")
        sample = build_email(Delivery.objects.filter(notification=notification, channel="email").select_related(
            "notification", "notification__case", "organization").first()).message().as_bytes(linesep="\r\n")
        print(f"message size: {len(sample)} bytes")

        sink.count = 0
        bare = bare_smtplib(port, args.count, sample)
        assert sink.count == args.count, sink.count
        print(f"bare smtplib loop, 1 connection: {bare:.2f} s, {args.count / bare:.0f} msg/s")
        for workers in args.workers:
            ids = reset(notification)
            sink.count = 0
            elapsed = run_workers(ids, workers, args.fresh_connections)
            assert sink.count == args.count, (sink.count, args.count)
            delivered = Delivery.objects.filter(notification=notification, status="delivered").count()
            print(f"deliver() × {workers} thread(s){' (fresh connections)' if args.fresh_connections else ''}: "
                  f"{elapsed:.2f} s, {args.count / elapsed:.0f} msg/s ({bare / elapsed:.2f}× bare smtplib); "
                  f"{delivered} delivered")
    controller.stop()


if __name__ == "__main__":
    main()
