"""Webhook delivery with a slow minority of receivers: the fast ones' rate beside a run with none slow.

Usage (PostgreSQL is what the figures are for):
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/irt_bench .venv/bin/python benchmarks/notify_webhooks.py --workers 2
                        # 10,000 organisations with one endpoint each; 10 % answer after 10 s
  add --scale 0.05 for a quick run (5 % of the endpoints), --slow-seconds 3 to shorten the wait.

One loopback HTTP server in a process of its own (``receiver_farm.py``, asyncio) is every
receiver: an endpoint's path says whether it answers at once or after ``--slow-seconds``; it counts
each ``webhook-id`` it answers and when. Two runs, each with fresh organisations and a breach notice to all of them, worked by
``--workers`` ``manage.py run_worker`` processes: first with no slow receiver (the baseline), then
with ``--slow-share`` of them slow. The clock runs from the outbox's commit. Each run asserts every
delivery answered exactly once by webhook-id, none lost, every delivery ``delivered``, every
organisation stamped notified at one of its own deliveries and before its deadline, and the
deadline met. Printed: the others' rate and completion time in both runs (the same endpoints in
both: the baseline picks the minority's places too, only they answer at once there), the others'
rate against every endpoint of the baseline (a stricter figure: the slow run still sends the
minority's requests), the whole run's, and the CPU time per webhook of the workers, the receivers
and the whole machine.
Give it a database of its own: it ends whatever an interrupted earlier run left queued there.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.harness import NOTICE_TABLES, autoanalyze, cpu_seconds, postgres_cpu_seconds, process_status, wait_until_started  # noqa: E402
from benchmarks.notify_smtp import (  # noqa: E402
    abandon_earlier_runs, assert_breach_notified, assert_each_delivered_once, start_workers, stop)

ENDPOINTS = 10_000


class Receivers:
    """Every endpoint, served by ``receiver_farm.py`` in a process of its own (as receivers are on other machines)."""

    def __init__(self, slow_seconds: float):
        self.process = subprocess.Popen([sys.executable, str(ROOT / "benchmarks" / "receiver_farm.py"), str(slow_seconds)],
                                        stdout=subprocess.PIPE, text=True)
        self.base = f"http://127.0.0.1:{int(self.process.stdout.readline())}"

    def _get(self, path: str):
        with urllib.request.urlopen(self.base + path, timeout=30) as response:
            return json.load(response)

    def take(self) -> tuple[Counter, dict]:
        """Return (answers per webhook-id, last answer time per id) since the last take, and start again."""
        answered = self._get("/take")
        return Counter({msg_id: count for msg_id, (count, _) in answered.items()}), {
            msg_id: at for msg_id, (_, at) in answered.items()}

    def total(self) -> int:
        return self._get("/stats")["answered"]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def setup() -> dict:
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3")
    os.environ.update({"DJANGO_SETTINGS_MODULE": "benchmarks.settings_webhooks", "LOG_LEVEL": "WARNING"})
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return dict(os.environ)


def breach_of(count: int, slow: int, base: str, label: str, *, slow_answers: bool):
    """Return a declared breach of ``count`` new organisations, one endpoint each (the first ``slow`` slow), and its update."""
    from datetime import timedelta

    from django.conf import settings
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from cases.models import AffectedCustomer, Case, Deadline, IncidentUpdate, Organization, User
    from notifications.channels.webhook import new_secret
    from notifications.models import WebhookEndpoint

    manager, _ = User.objects.get_or_create(username="bench-manager")
    manager.groups.add(Group.objects.get(name="Incident managers"))
    now = timezone.now()
    case = Case.objects.create(reference=f"IRT-2099-W{label}", title="Webhook benchmark", created_by=manager, owner=manager,
                               detected_at=now, breach_declared_at=now)
    slow_ids = set()
    for start in range(0, count, 5000):
        # No security contacts and no users: webhooks are the only external channel.
        orgs = Organization.objects.bulk_create(Organization(name=f"Hook {label} {i}", slug=f"hook-{label}-{i}")
                                                for i in range(start, min(count, start + 5000)))
        AffectedCustomer.objects.bulk_create(AffectedCustomer(case=case, organization=o, data_disclosed=True, added_by=manager,
                                                              impact_statement="Objects read.", confirmed_at=now) for o in orgs)
        # Spread the slow ones through the list (every tenth), as a real population would be.
        every = count // slow if slow else 0
        # The same places are picked in the baseline run (answering at once there), so both runs time the same others.
        minority = {o.pk for i, o in enumerate(orgs) if every and (start + i) % every == 0 and (start + i) // every < slow}
        kind = "slow" if slow_answers else "fast"
        WebhookEndpoint.objects.bulk_create(
            WebhookEndpoint(organization=o, url=f"{base}/{kind if o.pk in minority else 'fast'}/{o.slug}", secret=new_secret())
            for o in orgs)
        slow_ids |= minority
    Deadline.objects.create(case=case, kind=Deadline.Kind.CUSTOMER_NOTICE, started_at=now,
                            due_at=now + timedelta(hours=settings.IRT_NOTIFY_WITHIN_HOURS))
    update = IncidentUpdate.objects.create(case=case, public_title="Benchmark notice", what_happened="Data was read.",
                                           what_we_are_doing="Rolled back.", what_you_should_do="Rotate keys.",
                                           author=manager, published_at=now)
    return case, update, slow_ids


def check(notification, ids: Counter) -> None:
    """Assert exactly once by webhook-id, none lost, all delivered, every organisation notified within its deadline."""
    from notifications.models import Delivery

    rows = assert_each_delivered_once(notification, "webhook", ids, "webhook-ids")
    assert not Delivery.objects.filter(notification=notification, channel="email").exists()
    assert_breach_notified(notification, rows)


def run(receivers, env, logs, *, count, slow, slow_answers, workers, label, timeout):
    """One run; return (others' count, seconds until the last of the others answered, seconds until the last answer, CPU use).

    The others are the endpoints outside the minority (every ``count // slow``-th), whether the minority answers
    slowly (``slow_answers``) or at once: both runs time the same endpoints.

    The CPU use says where time went: the workers, this process (the receivers), and the machine.
    """
    from django.db import transaction

    from notifications.models import Delivery
    from notifications.services.outbox import notify_breach

    case, update, slow_orgs = breach_of(count, slow, receivers.base, label, slow_answers=slow_answers)
    processes = start_workers(workers, env, logs)
    wait_until_started(processes)
    receivers.take()
    cpu_before = ([cpu_seconds(p.pid) for p in processes], cpu_seconds(receivers.process.pid), cpu_seconds(),
                  postgres_cpu_seconds() + cpu_seconds(os.getpid()))
    try:
        with transaction.atomic():
            notification = notify_breach(case=case, update=update)
        began = time.monotonic()
        rows = Delivery.objects.filter(notification=notification, channel="webhook")
        expected = rows.count()
        fast = {str(pk) for pk in rows.exclude(organization_id__in=slow_orgs).values_list("pk", flat=True)}
        most_threads = 0
        while receivers.total() < expected:
            most_threads = max(most_threads, max(process_status(p.pid)["threads"] for p in processes))
            if time.monotonic() - began > timeout:
                raise SystemExit(f"timed out with {receivers.total()} of {expected} webhooks answered")
            if any(p.poll() is not None for p in processes):
                raise SystemExit(f"a worker exited; see {logs}/worker*.log")
            time.sleep(0.2)
        deadline = time.perf_counter() + 60
        while rows.exclude(status="delivered").exists() and time.perf_counter() < deadline:
            time.sleep(0.2)  # the last record commits
        cpu = (sum(cpu_seconds(p.pid) for p in processes) - sum(cpu_before[0]), cpu_seconds(receivers.process.pid) - cpu_before[1],
               cpu_seconds() - cpu_before[2], postgres_cpu_seconds() + cpu_seconds(os.getpid()) - cpu_before[3])
        memory = {"peak_mib": max(process_status(p.pid)["peak_mib"] for p in processes), "threads": most_threads}
        time.sleep(1)  # a duplicate would arrive now
    finally:
        stop(processes)
    ids, answered = receivers.take()
    check(notification, ids)
    fast_done = max((answered[pk] for pk in fast), default=began) - began
    return len(fast), fast_done, max(answered.values()) - began, cpu, memory


@contextmanager
def farm(receivers):
    try:
        yield receivers
    finally:
        receivers.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the 10,000 endpoints by this (0.05: a quick run)")
    parser.add_argument("--slow-share", type=float, default=0.1, help="share of receivers that answer slowly")
    parser.add_argument("--slow-seconds", type=float, default=10.0, help="how long a slow receiver takes to answer")
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--rounds", type=int, default=1, help="pairs of runs (none slow, then slow), alternating")
    parser.add_argument("--timeout", type=int, default=1800, help="give up on a run after this many seconds")
    args = parser.parse_args()

    receivers = Receivers(args.slow_seconds)
    env = setup()
    from django.conf import settings
    from django.db import connection

    abandoned = abandon_earlier_runs()
    count = max(10, round(ENDPOINTS * args.scale))
    slow = round(count * args.slow_share)
    label = f"{int(time.time()) % 100000}"
    print(f"{time.strftime('%Y-%m-%d %H:%M')}; Python {platform.python_version()}, {os.cpu_count()} CPUs, {connection.vendor} "
          f"{'.'.join(map(str, connection.get_database_version()))}; load {os.getloadavg()[0]:.1f}; {count} endpoints, "
          f"{slow} answering in {args.slow_seconds:g} s; {args.workers} worker process(es); concurrency "
          f"{settings.IRT_WEBHOOK_CONCURRENCY}, at most {settings.IRT_WEBHOOK_MAX_IN_FLIGHT} in flight, timeout "
          f"{settings.IRT_WEBHOOK_TIMEOUT_SECONDS} s, {settings.IRT_NOTIFY_DRAIN_TASKS} drain tasks; "
          f"{abandoned} deliveries of earlier runs abandoned", flush=True)
    with tempfile.TemporaryDirectory() as logs, autoanalyze(env, NOTICE_TABLES) as standing_in, farm(receivers):
        if standing_in:
            print("autovacuum is off on this server: the notice tables are ANALYZEd every 5 s, as autoanalyze would")
        results = []
        # Rounds alternate the two runs, so a drift of the machine's speed falls on both alike.
        for round_number in range(args.rounds):
            for name, slow_answers in (("none slow", False), (f"{args.slow_share:.0%} slow", True)):
                fast, fast_done, done, cpu, memory = run(receivers, env, Path(logs), count=count, slow=slow,
                                                         slow_answers=slow_answers, workers=args.workers,
                                                         label=f"{label}{len(results)}", timeout=args.timeout)
                results.append((round_number, name, fast, fast_done, done))
                print(f"round {round_number + 1}, {name}: the other {fast} receivers answered in {fast_done:.1f} s "
                      f"({fast / fast_done:.0f}/s), all {count} in {done:.1f} s; exactly once by webhook-id, none lost, "
                      f"every deadline met; load {os.getloadavg()[0]:.1f}; CPU ms per webhook: workers "
                      f"{cpu[0] * 1000 / count:.2f}, receivers {cpu[1] * 1000 / count:.2f}, machine {cpu[2] * 1000 / count:.2f}, "
                      f"of which PostgreSQL and this process {cpu[3] * 1000 / count:.2f} and other processes "
                      f"{(cpu[2] - cpu[0] - cpu[1] - cpu[3]) * 1000 / count:.2f} (a clean run has next to none); "
                      f"the busiest worker: {memory['threads']} threads at most, peak resident memory {memory['peak_mib']} MiB",
                      flush=True)
    # "Full rate" for the others: the same endpoints, done as soon as when nobody was slow (the baseline of the same
    # round). Beside it, the stricter figure of earlier reports: the others' rate against the whole baseline's (every
    # endpoint, minority included), which the slow run cannot reach on a CPU-bound machine, as it still sends the
    # minority's requests too.
    print(f"\n| round | run | endpoints | the other {1 - args.slow_share:.0%} | done | rate | vs the same endpoints, none slow "
          "| vs every endpoint, none slow | all done |\n|---|---|---|---|---|---|---|---|---|")
    ratios = []
    for round_number, name, fast, fast_done, done in results:
        _, _, base_fast, base_fast_done, base_done = results[2 * round_number]
        rate, base_rate, base_all_rate = fast / fast_done, base_fast / base_fast_done, count / base_done
        if name != "none slow":
            ratios.append(rate / base_rate)
        print(f"| {round_number + 1} | {name} | {count:,} | {fast:,} | {fast_done:.1f} s | {rate:,.0f}/s | {rate / base_rate:.2f}x | "
              f"{rate / base_all_rate:.2f}x | {done:.1f} s |")
    print(f"\nthe others' rate with a slow minority against none slow, same endpoints: median {statistics.median(ratios):.2f}x, "
          f"lowest {min(ratios):.2f}x over {len(ratios)} round(s)")

if __name__ == "__main__":
    main()
