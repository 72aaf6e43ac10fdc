"""Delivery through a real SMTP server on 127.0.0.1: retries, leases, the sweeper and the 72-hour fact."""

from collections import Counter
from datetime import timedelta

from django.db import transaction
from django.test import TestCase
from django.utils import timezone

from cases.models import AffectedCustomer, Case, Deadline, TimelineEvent
from notifications.guards import unnotified_customer_blockers
from notifications.models import Delivery, DeliveryAttempt, Notification
from notifications.services import delivery as service
from tests.notifications.conftest import CONTOSO_IMPACT, FABRIKAM_IMPACT, publish_update

Kind = Notification.Kind
django_on_commit = TestCase.captureOnCommitCallbacks
Status = Delivery.Status


def external(case=None):
    rows = Delivery.objects.exclude(channel=Delivery.Channel.INBOX)
    return rows.filter(notification__case=case) if case else rows


def notices(case=None):
    return external(case).filter(notification__kind=Kind.BREACH_NOTICE)


def run_all(now=None, rows=None, **kwargs):
    """What the worker does: one attempt at every pending external delivery (of ``rows``)."""
    rows = external() if rows is None else rows
    return [service.deliver(pk, now=now, **kwargs) for pk in rows.filter(status=Status.PENDING).values_list("pk", flat=True)]


def assert_invariant():
    """Check every external delivery's status agrees with its own fields and its attempt log."""
    for row in external().prefetch_related("attempt_log"):
        log = list(row.attempt_log.all())
        assert row.status in {Status.PENDING, Status.DELIVERED, Status.DEAD}, row
        if row.status == Status.DELIVERED:
            assert row.delivered_at is not None and sum(attempt.ok for attempt in log) == 1, row
        else:
            assert row.delivered_at is None and not any(attempt.ok for attempt in log), row
        if row.status == Status.DEAD:
            assert row.last_error, row


def test_breach_notice_arrives_with_the_recipients_own_impact_only(smtp_sink, breach_case, comms, settings):
    publish_update(breach_case, comms=comms)
    run_all(rows=notices())
    contoso, fabrikam = smtp_sink.to("security@contoso.example"), smtp_sink.to("security@fabrikam.example")
    assert len(contoso) == 1 and len(fabrikam) == 1
    contoso_text = contoso[0].get_body(("plain",)).get_content()
    contoso_html = contoso[0].get_body(("html",)).get_content()
    fabrikam_text = fabrikam[0].get_body(("plain",)).get_content()
    assert CONTOSO_IMPACT in contoso_text and FABRIKAM_IMPACT not in contoso_text + contoso_html
    assert FABRIKAM_IMPACT in fabrikam_text and CONTOSO_IMPACT not in fabrikam_text
    assert "Fabrikam" not in contoso_text + contoso_html + contoso[0]["Subject"]
    assert f"{settings.IRT_SITE_URL}/portal/incidents/{breach_case.reference}/" in contoso_text
    assert "Rotate any credentials" in contoso_text and "disclosed" in contoso_text
    assert_invariant()


def test_delivered_breach_notices_meet_the_deadline_and_unblock_closing(smtp_sink, breach_case, comms):
    publish_update(breach_case, comms=comms)
    assert unnotified_customer_blockers(breach_case)
    first = notices(breach_case).get(address="security@contoso.example")
    assert service.deliver(first.pk) == Status.DELIVERED
    deadline = Deadline.objects.get(case=breach_case, kind=Deadline.Kind.CUSTOMER_NOTICE)
    assert deadline.met_at is None
    assert "Fabrikam" in unnotified_customer_blockers(breach_case)[0]
    run_all()
    deadline.refresh_from_db()
    assert deadline.met_at is not None
    assert unnotified_customer_blockers(breach_case) == []
    rows = AffectedCustomer.objects.filter(case=breach_case)
    assert rows.count() == 2 and not rows.filter(notified_at__isnull=True).exists()
    notified = TimelineEvent.objects.filter(case=breach_case, kind=TimelineEvent.Kind.CUSTOMER_NOTIFIED)
    assert sorted(event.text.count("security@contoso.example") for event in notified) == [0, 1]
    assert sorted(event.text.count("security@fabrikam.example") for event in notified) == [0, 1]


def test_smtp_down_then_back_every_notice_arrives_exactly_once(stopped_sink, breach_case, comms, settings):
    settings.IRT_NOTIFY_MAX_ATTEMPTS = 10
    publish_update(breach_case, comms=comms)
    now = timezone.now()
    rows = notices(breach_case)
    assert run_all(now=now, rows=rows) == [Status.PENDING] * 2  # connection refused: retry later
    row = rows.first()
    assert row.attempts == 1 and "Connection" in row.last_error and row.next_attempt_at > now
    assert run_all(now=now, rows=rows) == ["skipped"] * 2  # not due yet: backoff
    now += timedelta(hours=2)
    run_all(now=now, rows=rows)  # still down
    stopped_sink.start()
    now += timedelta(hours=2)
    assert run_all(now=now, rows=rows) == [Status.DELIVERED] * 2
    now += timedelta(hours=2)
    # A duplicate task (at-least-once queue) finds nothing to do.
    assert [service.deliver(pk, now=now) for pk in rows.values_list("pk", flat=True)] == ["skipped"] * 2
    ids = Counter((tuple(rcpts), m["Message-ID"]) for rcpts, m in stopped_sink.messages)
    assert sorted(rcpt for (rcpts, _), n in ids.items() for rcpt in rcpts) == ["security@contoso.example", "security@fabrikam.example"]
    assert set(ids.values()) == {1}
    for rcpts, message in stopped_sink.messages:
        delivery = rows.get(address=rcpts[0])
        assert message["Message-ID"] == f"<{delivery.pk}@localhost>"
        assert message["X-IRT-Delivery-ID"] == str(delivery.pk)
        assert DeliveryAttempt.objects.filter(delivery=delivery).count() == 3
    assert_invariant()


def test_worker_killed_mid_delivery_is_swept_and_delivered(smtp_sink, breach_case, comms, settings, monkeypatch):
    publish_update(breach_case, comms=comms)
    row = notices(breach_case).get(address="security@contoso.example")
    now = timezone.now()
    # A worker claims the delivery and dies before sending; its django-tasks-db job stays RUNNING.
    assert service.claim(row.pk, now=now) is not None
    assert service.deliver(row.pk, now=now) == "skipped"  # the lease still holds
    queued = []
    monkeypatch.setattr("notifications.services.queue.enqueue_deliveries", lambda ids, **kw: queued.extend(ids))
    soon = now + timedelta(seconds=10)
    with transaction.atomic():
        service.sweep(now=soon)
    assert row.pk not in queued
    later = now + timedelta(seconds=settings.IRT_NOTIFY_LEASE_SECONDS + 1)
    with django_on_commit(execute=True):
        with transaction.atomic():
            service.sweep(now=later)
    assert row.pk in queued
    assert service.deliver(row.pk, now=later) == Status.DELIVERED
    assert len(smtp_sink.to("security@contoso.example")) == 1
    row.refresh_from_db()
    assert row.attempts == 2  # the lost attempt counts
    assert_invariant()


def test_sweeper_queues_deliveries_whose_task_went_missing(breach_case, comms, settings, monkeypatch):
    publish_update(breach_case, comms=comms)
    queued = []
    monkeypatch.setattr("notifications.services.queue.enqueue_deliveries", lambda ids, **kw: queued.extend(ids))
    now = timezone.now()
    with django_on_commit(execute=True):
        service.sweep(now=now)
    assert queued == []  # their tasks were queued on commit a moment ago
    later = now + timedelta(seconds=settings.IRT_NOTIFY_REQUEUE_AFTER_SECONDS + 1)
    with django_on_commit(execute=True):
        service.sweep(now=later)
    assert set(notices(breach_case).values_list("pk", flat=True)) <= set(queued)


def test_a_lost_last_attempt_ends_dead_not_stuck(smtp_sink, breach_case, comms, settings, admin):
    settings.IRT_NOTIFY_MAX_ATTEMPTS = 1
    publish_update(breach_case, comms=comms)
    row = notices(breach_case).first()
    now = timezone.now()
    service.claim(row.pk, now=now)
    later = now + timedelta(seconds=settings.IRT_NOTIFY_LEASE_SECONDS + 1)
    assert service.deliver(row.pk, now=later) == "skipped"
    row.refresh_from_db()
    assert row.status == Status.DEAD and "worker stopped" in row.last_error
    assert Notification.objects.filter(kind=Kind.DELIVERY_DEAD, deliveries__user=admin).exists()
    assert_invariant()


def test_every_attempt_failing_ends_dead_with_its_error_history_and_tells_admins(stopped_sink, breach_case, comms, settings, admin):
    settings.IRT_NOTIFY_MAX_ATTEMPTS = 3
    publish_update(breach_case, comms=comms)
    now = timezone.now()
    for _ in range(3):
        run_all(now=now)
        now += timedelta(days=1)
    rows = notices(breach_case)
    assert set(rows.values_list("status", flat=True)) == {Status.DEAD}
    assert DeliveryAttempt.objects.filter(delivery=rows.first()).count() == 3
    dead_notices = Notification.objects.filter(kind=Kind.DELIVERY_DEAD)
    # Everything that died in this outage is in one notice (tests/notifications/test_worker_faults.py).
    assert dead_notices.count() == 1
    count = int(dead_notices.get().title.split(" ")[0])
    assert count >= len(rows) and f"{count} deliveries failed since " in dead_notices.get().title
    assert all(f"Breach notice by email to {row.address}" in dead_notices.get().body for row in rows)
    assert set(dead_notices.values_list("deliveries__user__username", flat=True)) == {"admin"}
    # The dead-delivery email to the admin can itself die without starting a loop.
    run_all(now=now)
    run_all(now=now + timedelta(days=1))
    run_all(now=now + timedelta(days=2))
    assert not Notification.objects.filter(kind=Kind.DELIVERY_DEAD, title__contains="Delivery failed by").exists()
    assert Delivery.objects.filter(notification__kind=Kind.DELIVERY_DEAD, channel="email", status=Status.DEAD).exists()
    # Retry now (staff action) after the server is back.
    stopped_sink.start()
    for row in rows:
        service.retry_now(delivery=row, by=admin)
        assert service.deliver(row.pk) == Status.DELIVERED
    assert unnotified_customer_blockers(breach_case) == []
    assert_invariant()


def test_backoff_grows_exponentially_with_jitter_and_a_cap(settings):
    import random

    settings.IRT_NOTIFY_RETRY_BASE_SECONDS = 30
    settings.IRT_NOTIFY_RETRY_MAX_SECONDS = 3600
    rng = random.Random(7)
    waits = [service.backoff(n, rng=rng).total_seconds() for n in range(1, 12)]
    assert 15 <= waits[0] <= 45 and 30 <= waits[1] <= 90 and 60 <= waits[2] <= 180
    assert max(waits) <= 5400
    assert len({round(w) for w in waits}) == len(waits)  # jittered


def test_header_injection_in_subject_names_and_addresses_is_neutralised(smtp_sink, manager, db):
    from notifications.services import outbox
    from tests.factories import ManagerFactory

    victim = ManagerFactory(username="victim", first_name="Eve\r\nBcc: attacker@evil.example", email="victim@irt.example")
    outbox.notify_staff(kind=Kind.DEADLINE_REMINDER, users=[victim], title="Due\r\nBcc: attacker@evil.example\nX-Evil: 1")
    assert outbox.clean_address("a@example.com\r\nBcc: attacker@evil.example") is None
    assert outbox.clean_address("a@example.com, b@evil.example") is None
    run_all()
    [(rcpts, message)] = smtp_sink.messages
    assert rcpts == ["victim@irt.example"]
    assert message["Bcc"] is None and message["X-Evil"] is None
    assert "\n" not in message["Subject"] and "\r" not in message["Subject"]
    assert message["Subject"].startswith("[IRT] Due Bcc: attacker@evil.example")


def test_fabrikam_contacts_never_receive_contosos_breach_notice(smtp_sink, manager, comms, contoso, fabrikam):
    from cases.services import breach
    from tests.factories import case_in_stage

    case = case_in_stage(Case.Status.STABILIZING, manager=manager)
    breach.add_affected_customer(case=case, by=manager, organization=contoso, data_disclosed=True, impact_statement=CONTOSO_IMPACT)
    breach.declare_breach(case=case, by=manager, note="Confirmed.")
    publish_update(case, comms=comms)
    run_all()
    assert smtp_sink.to("secops@fabrikam.example") == [] and smtp_sink.to("security@fabrikam.example") == []
    assert all("fabrikam" not in r for rcpts, _ in smtp_sink.messages for r in rcpts)
    assert not Delivery.objects.filter(organization=fabrikam).exists()


def test_close_is_blocked_until_the_breach_notice_is_delivered(smtp_sink, breach_case, comms):
    publish_update(breach_case, comms=comms)
    assert any("Breach notice not yet delivered" in r for r in breach_case.close_blockers())
    run_all(rows=notices())
    breach_case.refresh_from_db()
    assert not any("Breach notice" in r for r in breach_case.close_blockers())
