"""Riding out outages without a real database outage: the loops, the sweeper's reclaim and grouping.

The end-to-end fault test (a PostgreSQL cluster stopped under running workers) is test_faults.py.
"""

import logging
from datetime import timedelta
from uuid import uuid4

import pytest
from django.core.management import call_command
from django.db.utils import InterfaceError, OperationalError
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from notifications.management.commands.run_worker import ResilientWorker
from notifications.models import Delivery, Notification
from notifications.services import delivery as service
from notifications.services import queue as notification_queue
from irt import resilience
from tests.notifications.conftest import publish_update

Status = Delivery.Status


def flaky(failures, *, then=None, error=OperationalError("server closed the connection unexpectedly")):
    """Return a step that raises ``error`` ``failures`` times, then calls ``then``."""
    calls = {"n": 0}

    def step():
        calls["n"] += 1
        if calls["n"] <= failures:
            raise error
        if then:
            then()

    return step, calls


def test_the_loop_waits_out_a_database_outage_with_growing_backoff(settings, caplog, db):
    settings.IRT_WORKER_BACKOFF_MAX_SECONDS = 4
    slept = []
    step, calls = flaky(5)
    with caplog.at_level(logging.WARNING, logger="irt.resilience"):
        resilience.run_forever(step, what="test loop", sleep=slept.append, keep_going=lambda: calls["n"] < 6)
    assert calls["n"] == 6
    assert [round(s) for s in slept] == [round(s) for s in slept] and len(slept) == 5
    assert slept[0] < slept[2] and all(s <= 4 * 1.25 for s in slept)
    assert "the database is unavailable" in caplog.text and "the database is back" in caplog.text


def test_other_errors_still_end_the_loop_for_the_supervisor_to_restart():
    def broken():
        raise ValueError("a bug")

    with pytest.raises(ValueError):
        resilience.run_forever(broken, what="test loop", sleep=lambda s: None)


def test_a_result_recorded_during_an_outage_is_retried_until_the_database_is_back(settings, db):
    settings.IRT_WORKER_BACKOFF_MAX_SECONDS = 1
    step, calls = flaky(3, error=InterfaceError("connection already closed"))
    resilience.retry_through_outage(step, what="record", give_up_after=60, sleep=lambda s: None)
    assert calls["n"] == 4
    step, calls = flaky(100)
    clock = [0.0]
    with pytest.raises(OperationalError):
        resilience.retry_through_outage(step, what="record", give_up_after=3, clock=lambda: clock[0],
                                        sleep=lambda seconds: clock.__setitem__(0, clock[0] + seconds))
    assert calls["n"] < 10  # gave up once the wait would pass the deadline


def test_the_worker_command_restarts_the_real_worker_after_a_database_error(monkeypatch, settings, db):
    settings.IRT_WORKER_BACKOFF_MAX_SECONDS = 1
    runs = []

    def fake_run(self):
        runs.append(1)
        if len(runs) < 3:
            raise OperationalError("the database system is shutting down")

    monkeypatch.setattr("django_tasks_db.management.commands.db_worker.Worker.run", fake_run)
    monkeypatch.setattr(resilience.time, "sleep", lambda s: None)
    worker = ResilientWorker(queue_names=["default"], interval=0, batch=True, backend_name="default", startup_delay=False,
                             max_tasks=None, worker_id="w", excluded_queue_names=[])
    worker.run()
    assert len(runs) == 3 and worker.finished


def test_the_sweep_loop_survives_a_database_outage(monkeypatch, settings, db):
    settings.IRT_WORKER_BACKOFF_MAX_SECONDS = 1
    sweeps = []

    def sweep():
        sweeps.append(1)
        if len(sweeps) == 1:
            raise OperationalError("could not connect to server")
        if len(sweeps) == 3:
            raise KeyboardInterrupt  # how the test stops the loop
        return {"requeued": 0, "reminders": 0, "reclaimed": 0}

    monkeypatch.setattr("notifications.management.commands.notify_sweep.sweep", sweep)
    monkeypatch.setattr(resilience.time, "sleep", lambda s: None)
    monkeypatch.setattr("notifications.management.commands.notify_sweep.run_forever",
                        lambda step, **kw: resilience.run_forever(step, **{**kw, "sleep": lambda s: None}))
    with pytest.raises(KeyboardInterrupt):
        call_command("notify_sweep", loop=1)
    assert len(sweeps) == 3


# -- the sweeper after an outage --------------------------------------------------------------------

def db_task(delivery_id, *, status, started_at=None):
    task_ = notification_queue.queue.get(notification_queue.DELIVER)
    return DBTaskResult.objects.create(
        task_path=task_.module_path, args_kwargs={"args": [str(delivery_id)], "kwargs": {}}, status=status,
        queue_name="default", backend_name="default", run_after=timezone.now(), started_at=started_at,
        exception_class_path="", traceback="",
    )


@pytest.fixture
def database_queue():
    """The suite runs on the database task backend, whose rows the sweeper reads."""
    from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends
    from django_tasks_db.backend import DatabaseBackend

    assert isinstance(task_backends[DEFAULT_TASK_BACKEND_ALIAS], DatabaseBackend)


def test_after_an_outage_the_sweeper_leaves_deliveries_whose_task_is_still_queued(smtp_sink, breach_case, comms, settings,
                                                                                  database_queue):
    publish_update(breach_case, comms=comms)
    rows = list(Delivery.objects.exclude(channel=Delivery.Channel.INBOX).filter(status=Status.PENDING))
    assert len(rows) >= 2
    DBTaskResult.objects.all().delete()
    waiting, lost = rows[0], rows[1:]
    db_task(waiting.pk, status="READY")
    after_outage = timezone.now() + timedelta(seconds=settings.IRT_NOTIFY_REQUEUE_AFTER_SECONDS + 60)
    queued = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(notification_queue, "enqueue_deliveries", lambda ids, **kw: queued.extend(ids))
        from django.test import TestCase

        with TestCase.captureOnCommitCallbacks(execute=True):
            result = service.sweep(now=after_outage)
    assert result["requeued"] == len(lost)
    assert set(queued) == {row.pk for row in lost}


def test_the_sweeper_reclaims_tasks_left_running_by_a_killed_worker(db, settings, database_queue):
    long_ago = timezone.now() - timedelta(seconds=settings.IRT_NOTIFY_REQUEUE_AFTER_SECONDS + 5)
    killed = db_task(uuid4(), status="RUNNING", started_at=long_ago)
    busy = db_task(uuid4(), status="RUNNING", started_at=timezone.now())
    assert service.sweep()["reclaimed"] == 1
    killed.refresh_from_db()
    busy.refresh_from_db()
    assert killed.status == "FAILED" and killed.exception_class_path == notification_queue.WORKER_LOST
    assert "worker stopped" in killed.traceback and killed.finished_at
    assert busy.status == "RUNNING"


def test_one_outage_sends_admins_one_dead_delivery_notice_naming_every_delivery(stopped_sink, breach_case, comms, settings,
                                                                                admin):
    settings.IRT_NOTIFY_MAX_ATTEMPTS = 1
    publish_update(breach_case, comms=comms)
    rows = list(Delivery.objects.exclude(channel=Delivery.Channel.INBOX).filter(
        notification__kind=Notification.Kind.BREACH_NOTICE))
    now = timezone.now()
    for row in rows:
        service.deliver(row.pk, now=now)
    assert {row.status for row in Delivery.objects.filter(pk__in=[r.pk for r in rows])} == {Status.DEAD}
    [notice] = Notification.objects.filter(kind=Notification.Kind.DELIVERY_DEAD)
    assert notice.title.startswith(f"{len(rows)} deliveries failed")
    assert all(row.address in notice.body for row in rows)
    assert notice.deliveries.filter(user=admin).exists()
    # A later outage gets a notice of its own.
    later = now + timedelta(minutes=settings.IRT_NOTIFY_DEAD_DIGEST_MINUTES)
    publish_update(breach_case, comms=comms, title="More")
    for row in Delivery.objects.exclude(channel=Delivery.Channel.INBOX).filter(status=Status.PENDING,
                                                                               notification__kind=Notification.Kind.INCIDENT_UPDATE):
        service.deliver(row.pk, now=later)
    assert Notification.objects.filter(kind=Notification.Kind.DELIVERY_DEAD).count() in (1, 2)
