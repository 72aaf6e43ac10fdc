"""Bulk data for the page benchmarks: thousands of cases with hash-chained timelines, on top of seed_demo.

Usage (after ``migrate`` and ``seed_demo`` on the same database):
    DJANGO_SETTINGS_MODULE=benchmarks.settings .venv/bin/python -m benchmarks.scale --cases 10000

Adds ``--cases`` cases (references ``IRT-2019-NNNNN``) spread over every stage and severity, owned
by 40 extra staff users, each with 5–20 timeline events whose chain verifies, a task or two, and
500 organisations of which some are affected customers; plus one case (``IRT-2019-BIG01``) with
5,000 timeline events and 200 tasks. Idempotent: a second run adds nothing. Prints the big case's
reference and a demo case's reference on the last line as ``big=… demo=…``.
"""

import argparse
import random
from datetime import timedelta

BIG_REFERENCE = "IRT-2019-BIG01"
BIG_EVENTS = 5000
BIG_TASKS = 200
STAFF = 40
ORGANIZATIONS = 500
BATCH = 5000


def _events(case, actors, count, start, rng, TimelineEvent, genesis_hash):
    kinds = [TimelineEvent.Kind.NOTE, TimelineEvent.Kind.TASK_ADDED, TimelineEvent.Kind.TASK_DONE,
             TimelineEvent.Kind.DETAILS_CHANGED, TimelineEvent.Kind.MEMBER_ADDED, TimelineEvent.Kind.TRANSITION]
    previous = genesis_hash(case.reference)
    events = []
    for sequence in range(1, count + 1):
        actor = rng.choice(actors)
        event = TimelineEvent(
            case=case, sequence=sequence, at=start + timedelta(minutes=sequence), actor=actor, actor_name=actor.username,
            kind=TimelineEvent.Kind.OPENED if sequence == 1 else rng.choice(kinds),
            text=f"Benchmark event {sequence} on {case.reference}: checked the logs of host-{rng.randrange(999)}.",
            data={}, previous_hash=previous,
        )
        event.hash = previous = event.compute_hash()
        events.append(event)
    return events, previous


def seed(count: int) -> tuple[str, str]:
    from django.contrib.auth.models import Group
    from django.db import transaction
    from django.utils import timezone

    from cases.models import AffectedCustomer, Case, Organization, Task, TimelineEvent, User
    from cases.models.timeline import genesis_hash

    rng = random.Random(18)
    demo = Case.objects.exclude(reference__startswith="IRT-2019-").order_by("pk").first()
    if Case.objects.filter(reference=BIG_REFERENCE).exists():
        return BIG_REFERENCE, demo.reference
    with transaction.atomic():
        responders = Group.objects.get(name="Responders")
        manager = User.objects.get(username="manager")
        staff = []
        for i in range(STAFF):
            user, _ = User.objects.get_or_create(username=f"bench-staff-{i:02d}", defaults={"first_name": "Bench", "last_name": f"Staff {i}"})
            user.groups.set([responders])
            staff.append(user)
        Organization.objects.bulk_create(
            [Organization(name=f"Bench customer {i}", slug=f"bench-customer-{i}") for i in range(ORGANIZATIONS)],
            ignore_conflicts=True,
        )
        orgs = list(Organization.objects.filter(slug__startswith="bench-customer-"))
        now = timezone.now()
        statuses, severities = Case.Status.values, Case.Severity.values + [""]
        cases = [
            Case(reference=f"IRT-2019-{i:05d}", title=f"Benchmark case {i}: suspicious sign-ins on tenant {i % 997}",
                 created_by=manager, owner=None if i % 7 == 0 else rng.choice(staff), status=statuses[i % len(statuses)],
                 severity=rng.choice(severities), detected_at=now - timedelta(minutes=37 * i),
                 breach_declared_at=now - timedelta(days=1) if i % 50 == 0 else None)
            for i in range(count)
        ] + [Case(reference=BIG_REFERENCE, title="Benchmark case with a long timeline", created_by=manager, owner=manager,
                  status=Case.Status.DIAGNOSING, severity=Case.Severity.HIGH, detected_at=now - timedelta(days=30))]
        cases = Case.objects.bulk_create(cases, batch_size=BATCH)
    pending, heads = [], []
    for case in cases:
        big = case.reference == BIG_REFERENCE
        events, head = _events(case, staff + [manager], BIG_EVENTS if big else rng.randint(5, 20),
                               case.detected_at, rng, TimelineEvent, genesis_hash)
        case.timeline_head = head
        case.version = len(events)
        heads.append(case)
        pending.extend(events)
        if len(pending) >= BATCH:
            TimelineEvent.objects.bulk_create(pending)
            pending = []
    TimelineEvent.objects.bulk_create(pending)
    Case.objects.bulk_update(heads, ["timeline_head", "version"], batch_size=BATCH)
    tasks = [Task(case=case, title=f"Check {case.reference} step {n}", created_by=manager, assignee=rng.choice(staff),
                  due_at=now + timedelta(hours=rng.randint(-48, 96)), mandatory=n == 0,
                  done_at=now if rng.random() < 0.4 else None)
             for case in cases[::3] for n in range(2)]
    big = next(case for case in cases if case.reference == BIG_REFERENCE)
    tasks += [Task(case=big, title=f"Long case task {n}", created_by=manager, assignee=rng.choice(staff),
                   due_at=now + timedelta(hours=n), done_at=now if n % 3 == 0 else None) for n in range(BIG_TASKS)]
    Task.objects.bulk_create(tasks, batch_size=BATCH)
    AffectedCustomer.objects.bulk_create(
        [AffectedCustomer(case=case, organization=rng.choice(orgs), added_by=manager) for case in cases[::10]],
        batch_size=BATCH, ignore_conflicts=True,
    )
    return BIG_REFERENCE, demo.reference


def main() -> None:
    import django

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10000)
    args = parser.parse_args()
    django.setup()
    big, demo = seed(args.cases)
    print(f"big={big} demo={demo}")


if __name__ == "__main__":
    main()
