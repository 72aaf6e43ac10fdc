"""Large breaches: the fan-out and each batch of deliveries cost a fixed number of queries, whatever their size."""

import math
import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection, transaction

from cases.models import AffectedCustomer, Case, Deadline, Organization, TimelineEvent
from cases.selectors.timeline import first_broken_link
from cases.services.timeline import lock_case
from notifications.channels import email as email_channel
from notifications.models import Delivery, DeliveryAttempt, Notification
from notifications.services import delivery as service
from notifications.services import outbox
from notifications.services import queue as notification_queue
from tests.factories import case_in_stage

Kind = Notification.Kind
Channel = Delivery.Channel
Status = Delivery.Status


def breach_of(manager, orgs: int, *, prefix="org"):
    """A declared breach of ``orgs`` confirmed organisations with two security contacts each, and its update."""
    case = case_in_stage(Case.Status.STABILIZING, manager=manager)
    Organization.objects.bulk_create(
        Organization(name=f"{prefix} {i}", slug=f"{prefix}-{i}", security_contacts=f"sec@{prefix}{i}.example\nciso@{prefix}{i}.example")
        for i in range(orgs)
    )
    AffectedCustomer.objects.bulk_create(
        AffectedCustomer(case=case, organization=org, data_disclosed=True, added_by=manager, confirmed_at=case.detected_at,
                         impact_statement=f"Objects of {org.slug} were read.")
        for org in Organization.objects.filter(slug__startswith=f"{prefix}-")
    )
    Case.objects.filter(pk=case.pk).update(breach_declared_at=case.detected_at)
    case.refresh_from_db()
    Deadline.objects.create(case=case, kind=Deadline.Kind.CUSTOMER_NOTICE, started_at=case.detected_at,
                            due_at=case.detected_at + timedelta(hours=72))
    update = case.updates.create(public_title="T", what_happened="W", author=manager, published_at=case.detected_at)
    return case, update


def insert_batches(rows: int) -> int:
    """Return how many INSERT statements Django splits ``rows`` deliveries into (1 on PostgreSQL)."""
    fields = list(Delivery._meta.concrete_fields)
    return math.ceil(rows / (connection.ops.bulk_batch_size(fields, [None] * rows) or rows))


@pytest.mark.parametrize("orgs", [100, 1000])
def test_a_breach_fan_out_costs_the_same_queries_for_100_and_1000_organisations(manager, orgs, django_assert_num_queries,
                                                                                   django_capture_on_commit_callbacks, settings):
    case, update = breach_of(manager, orgs)
    # The outbox write, its on-commit queueing and the fan-out task that queues the drains. On
    # PostgreSQL the deliveries are one INSERT; SQLite splits it (Django's 999-parameter limit).
    # Reads (4), the notification, savepoint and release, the fan-out task, two reads, the drains.
    with django_assert_num_queries(10 + settings.IRT_NOTIFY_DRAIN_TASKS + insert_batches(2 * orgs)):
        with django_capture_on_commit_callbacks(execute=True):
            with transaction.atomic():
                notification = outbox.notify_breach(case=case, update=update)
        notification_queue.fan_out(notification.pk)
    assert Delivery.objects.filter(channel=Channel.EMAIL, status=Status.PENDING).count() == 2 * orgs


@pytest.mark.parametrize("orgs", [10, 50])
def test_a_batch_of_breach_notices_costs_the_same_queries_for_20_and_100_emails(manager, orgs, smtp_sink, settings,
                                                                                 django_assert_num_queries):
    settings.IRT_NOTIFY_BATCH_SIZE = 100
    case, update = breach_of(manager, orgs)
    notification = outbox.notify_breach(case=case, update=update)
    # Claim (4), related rows and impacts (3), then one transaction: the case lock, attempts and
    # delivered (5), the organisations and their timeline events (7), and, this batch being the
    # last, meeting the deadline with its own event (11). 20 emails or 100: the same.
    with django_assert_num_queries(30):
        statuses = service.deliver_batch(notification_id=notification.pk)
    assert Counter(statuses.values()) == {Status.DELIVERED: 2 * orgs}
    assert len(smtp_sink.messages) == 2 * orgs
    assert not AffectedCustomer.objects.filter(case=case, notified_at__isnull=True).exists()
    assert TimelineEvent.objects.filter(case=case, kind=TimelineEvent.Kind.CUSTOMER_NOTIFIED).count() == orgs
    assert Deadline.objects.get(case=case).met_at is not None


def test_each_recipient_reads_its_own_organisations_impact_and_its_own_notice_id(manager, smtp_sink):
    case, update = breach_of(manager, 3)
    notification = outbox.notify_breach(case=case, update=update)
    service.deliver_batch(notification_id=notification.pk)
    for rcpts, message in smtp_sink.messages:
        slug = rcpts[0].split("@")[1].removesuffix(".example")
        org = f"org-{slug.removeprefix('org')}"
        text = message.get_body(("plain",)).get_content()
        delivery_id = message["X-IRT-Delivery-ID"]
        assert f"Objects of {org} were read." in text
        assert [line for line in text.splitlines() if "were read" in line] == [f"Objects of {org} were read."]
        assert f"Notice id: {delivery_id}" in text and f"Notice id: {delivery_id}" in message.get_body(("html",)).get_content()
        assert message["Message-ID"] == f"<{delivery_id}@localhost>"
        assert service.rendering.DELIVERY_ID_MARK not in text


def test_a_drain_works_every_email_of_a_notification_once(manager, smtp_sink, settings):
    settings.IRT_NOTIFY_BATCH_SIZE = 7
    case, update = breach_of(manager, 20)
    notification = outbox.notify_breach(case=case, update=update)
    assert service.drain(notification_id=notification.pk) == 40
    ids = Counter(message["X-IRT-Delivery-ID"] for _, message in smtp_sink.messages)
    assert len(ids) == 40 and set(ids.values()) == {1}
    assert set(Delivery.objects.filter(notification=notification).values_list("status", flat=True)) == {Status.DELIVERED}
    assert DeliveryAttempt.objects.filter(delivery__notification=notification, ok=True).count() == 40


def test_one_failing_message_is_retried_alone_and_the_rest_of_its_batch_is_delivered(manager, smtp_sink, monkeypatch):
    case, update = breach_of(manager, 5)
    notification = outbox.notify_breach(case=case, update=update)
    bad = Delivery.objects.filter(notification=notification).order_by("address").first()
    real_send = email_channel.Mailer.send

    def send(self, message):
        if message.extra_headers["X-IRT-Delivery-ID"] == str(bad.pk):
            raise ConnectionRefusedError("mailbox unavailable")
        return real_send(self, message)

    monkeypatch.setattr(email_channel.Mailer, "send", send)
    statuses = service.deliver_batch(notification_id=notification.pk)
    assert statuses.pop(bad.pk) == Status.PENDING
    assert set(statuses.values()) == {Status.DELIVERED} and len(statuses) == 9
    bad.refresh_from_db()
    assert bad.attempts == 1 and "mailbox unavailable" in bad.last_error and bad.lease_until is None


def test_a_batch_that_runs_out_of_lease_gives_the_rest_back_unsent(manager, smtp_sink, settings):
    settings.IRT_NOTIFY_LEASE_SECONDS = 120
    case, update = breach_of(manager, 5)
    notification = outbox.notify_breach(case=case, update=update)
    ticks = iter([0, 0, 0, 200, 200, 200, 200, 200, 200, 200, 200, 200])
    statuses = service.deliver_batch(notification_id=notification.pk, clock=lambda: next(ticks))
    assert len(statuses) == 2 and len(smtp_sink.messages) == 2
    rest = Delivery.objects.filter(notification=notification, status=Status.PENDING)
    assert rest.count() == 8
    assert set(rest.values_list("attempts", "lease_until")) == {(0, None)}


def test_the_mailer_reconnects_after_the_server_drops_an_idle_connection(smtp_sink, smtp_settings):
    mailer = email_channel.Mailer()
    message = email_channel.message_from_parts(("s", "t", "<p>h</p>"), to="a@x.example", message_id="m1")
    mailer.send(message)
    mailer._connection.connection.sock.close()  # the server hung up while the worker idled
    mailer.send(email_channel.message_from_parts(("s", "t", "<p>h</p>"), to="b@x.example", message_id="m2"))
    assert [rcpts for rcpts, _ in smtp_sink.messages] == [["a@x.example"], ["b@x.example"]]
    mailer.close()


@pytest.mark.django_db(transaction=True)
def test_recording_a_batch_does_not_wait_for_the_case_lock_per_organisation(manager, smtp_sink):
    """Delivery never takes the case lock before its batch is sent: a held lock delays only the record."""
    if not connection.features.has_select_for_update_skip_locked:
        pytest.skip("row locks are PostgreSQL's")
    case, update = breach_of(manager, 4)
    notification = outbox.notify_breach(case=case, update=update)
    locked, release = threading.Event(), threading.Event()

    def hold():
        with transaction.atomic():
            lock_case(case)
            locked.set()
            release.wait(10)
        connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    locked.wait(5)
    done = []
    worker = threading.Thread(target=lambda: (done.append(service.deliver_batch(notification_id=notification.pk)),
                                              connection.close()))
    worker.start()
    # Everything is sent while the case is locked; only the record waits for it.
    for _ in range(100):
        if len(smtp_sink.messages) == 8:
            break
        threading.Event().wait(0.05)
    assert len(smtp_sink.messages) == 8 and not done
    release.set()
    holder.join(5)
    worker.join(10)
    assert Counter(done[0].values()) == {Status.DELIVERED: 8}


@pytest.mark.django_db(transaction=True)
def test_four_workers_draining_one_breach_send_every_notice_once_and_meet_the_deadline(manager, smtp_sink, settings):
    if not connection.features.has_select_for_update_skip_locked:
        pytest.skip("concurrent workers need PostgreSQL's row locks (SQLite has one writer)")
    settings.IRT_NOTIFY_BATCH_SIZE = 10
    case, update = breach_of(manager, 60)
    notification = outbox.notify_breach(case=case, update=update)
    attempted = []

    def worker():
        try:
            attempted.append(service.drain(notification_id=notification.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(attempted) == 120
    ids = Counter(message["X-IRT-Delivery-ID"] for _, message in smtp_sink.messages)
    assert len(ids) == 120 and set(ids.values()) == {1}
    assert set(Delivery.objects.filter(notification=notification).values_list("status", flat=True)) == {Status.DELIVERED}
    assert not AffectedCustomer.objects.filter(case=case, notified_at__isnull=True).exists()
    assert TimelineEvent.objects.filter(case=case, kind=TimelineEvent.Kind.CUSTOMER_NOTIFIED).count() == 60
    assert Deadline.objects.get(case=case).met_at is not None
    case.refresh_from_db()
    assert first_broken_link(case)[0] is None  # the batches' events kept the hash chain whole
