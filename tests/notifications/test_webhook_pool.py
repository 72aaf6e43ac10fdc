"""Webhooks go out from a bounded pool of threads: a slow minority of receivers never holds up the rest."""

import threading
import time
from collections import Counter

import pytest
import standardwebhooks

from notifications.channels import webhook as webhook_channel
from notifications.models import Delivery, DeliveryAttempt
from notifications.services import delivery as service
from notifications.services import outbox
from notifications.services.webhooks import create_endpoint
from tests.loopback import LoopbackReceiver, serving
from tests.notifications.test_batches import breach_of

Channel = Delivery.Channel
Status = Delivery.Status
SLOW = 2.5  # seconds a slow receiver takes to answer (within the attempt's deadline)


class Receivers(LoopbackReceiver):
    """Many webhook receivers on one loopback server: ``/slow/…`` paths answer after ``SLOW`` seconds.

    Each request is verified with its endpoint's secret (Standard Webhooks, as a customer would)
    and its ``webhook-id`` counted, with the time its answer went out.
    """

    def __init__(self):
        self.secrets, self.ids, self.answered, self.rejected = {}, Counter(), {}, 0
        self.lock = threading.Lock()
        super().__init__()

    def answer(self, path, headers, body):
        try:
            standardwebhooks.Webhook(self.secrets[path]).verify(body, headers)
        except (KeyError, standardwebhooks.webhooks.WebhookVerificationError):
            with self.lock:
                self.rejected += 1
            return 401, {}
        if path.startswith("/slow/"):
            time.sleep(SLOW)
        with self.lock:
            self.ids[headers["webhook-id"]] += 1
            self.answered[headers["webhook-id"]] = time.monotonic()
        return 204, {}


@pytest.fixture
def receivers(settings):
    with serving(settings, Receivers()) as server:
        yield server


def breach_with_endpoints(manager, receivers, *, fast: int, slow: int):
    """A breach notice to ``fast + slow`` organisations, each with one endpoint; return it and the slow organisations."""
    case, update = breach_of(manager, fast + slow, prefix="hook")
    slow_orgs = set()
    for i, affected in enumerate(case.affected_customers.select_related("organization").order_by("pk")):
        kind = "slow" if i < slow else "fast"  # the slow ones first: the worst place for them
        path = f"/{kind}/{affected.organization.slug}"
        endpoint, receivers.secrets[path] = create_endpoint(organization=affected.organization, url=receivers.base + path)
        if kind == "slow":
            slow_orgs.add(affected.organization_id)
    return outbox.notify_breach(case=case, update=update), slow_orgs


def test_fast_receivers_are_delivered_without_waiting_for_slow_ones(manager, receivers, settings, monkeypatch):
    settings.IRT_WEBHOOK_TIMEOUT_SECONDS = 10
    settings.IRT_WEBHOOK_CONCURRENCY = 4  # fewer places than slow receivers: only giving slow requests' places back helps
    settings.IRT_WEBHOOK_MAX_IN_FLIGHT = 32
    settings.IRT_NOTIFY_BATCH_SIZE = 10
    monkeypatch.setattr(service, "SLOW_AFTER_SECONDS", 0.2)
    notification, slow_orgs = breach_with_endpoints(manager, receivers, fast=30, slow=6)
    hooks = Delivery.objects.filter(notification=notification, channel=Channel.WEBHOOK)
    fast_ids = {str(pk) for pk in hooks.exclude(organization_id__in=slow_orgs).values_list("pk", flat=True)}
    assert len(fast_ids) == 30

    started = time.monotonic()
    assert service.drain(notification_id=notification.pk, channel=Channel.WEBHOOK) == 36
    elapsed = time.monotonic() - started

    fast_done = max(receivers.answered[pk] for pk in fast_ids) - started
    # Generous: the fast 30 need a few hundred milliseconds; waiting behind the slow ones costs SLOW or more.
    assert fast_done < SLOW * 0.8, f"the fast receivers waited {fast_done:.2f} s for the slow ones"
    assert elapsed < SLOW + 3, "the slow receivers were not waited out side by side"
    # Exactly once by webhook-id, every signature verified, every delivery delivered and recorded once.
    assert receivers.rejected == 0
    assert receivers.ids == Counter({str(pk): 1 for pk in hooks.values_list("pk", flat=True)})
    assert set(hooks.values_list("status", flat=True)) == {Status.DELIVERED}
    assert DeliveryAttempt.objects.filter(delivery__in=hooks).count() == 36


def test_a_batch_of_webhooks_goes_out_side_by_side(manager, receivers, settings):
    """``deliver_batch`` (a retry task, a small notification) sends its webhooks concurrently too."""
    settings.IRT_WEBHOOK_TIMEOUT_SECONDS = 10
    settings.IRT_WEBHOOK_CONCURRENCY = 8
    notification, _ = breach_with_endpoints(manager, receivers, fast=0, slow=5)
    started = time.monotonic()
    statuses = service.deliver_batch(notification_id=notification.pk, channel=Channel.WEBHOOK)
    assert list(statuses.values()) == [Status.DELIVERED] * 5
    assert time.monotonic() - started < SLOW * 2, "the batch's slow receivers were waited for one after another"
    assert sorted(receivers.ids.values()) == [1] * 5


def test_a_slow_receiver_past_the_deadline_is_a_failed_attempt_retried_later(manager, receivers, settings):
    settings.IRT_WEBHOOK_TIMEOUT_SECONDS = 1  # shorter than SLOW: the slow receivers time out
    notification, slow_orgs = breach_with_endpoints(manager, receivers, fast=3, slow=2)
    service.drain(notification_id=notification.pk, channel=Channel.WEBHOOK)
    hooks = Delivery.objects.filter(notification=notification, channel=Channel.WEBHOOK)
    slow = hooks.filter(organization_id__in=slow_orgs)
    assert set(hooks.exclude(organization_id__in=slow_orgs).values_list("status", flat=True)) == {Status.DELIVERED}
    assert {(row.status, row.attempts, row.lease_until) for row in slow} == {(Status.PENDING, 1, None)}
    assert all("no complete answer within 1 s" in row.last_error for row in slow)


# -- the bound ---------------------------------------------------------------------------

class Gate:
    """Stands in for the POST: counts the requests in flight and holds each until released."""

    def __init__(self):
        self.open = threading.Event()
        self.lock = threading.Lock()
        self.now = self.peak = self.calls = 0
        self.threads = set()

    def post(self, **kwargs):
        with self.lock:
            self.now += 1
            self.calls += 1
            self.peak = max(self.peak, self.now)
            self.threads.add(threading.get_ident())
        self.open.wait(10)
        with self.lock:
            self.now -= 1
        return webhook_channel.WebhookResult(204)


def prepared(n):
    return [service.PreparedWebhook(Delivery(channel=Channel.WEBHOOK), url="https://h.example/", secrets=("whsec_x",), body=b"{}")
            for _ in range(n)]


def test_the_pool_starts_no_more_young_requests_than_the_concurrency(settings, monkeypatch):
    settings.IRT_WEBHOOK_CONCURRENCY, settings.IRT_WEBHOOK_MAX_IN_FLIGHT = 3, 5
    gate, clock = Gate(), [0.0]
    monkeypatch.setattr(webhook_channel, "post", gate.post)
    pool = service.WebhookPool(clock=lambda: clock[0])
    try:
        queued = prepared(10)
        while pool.free():
            pool.submit(queued.pop())
        assert len(pool.in_flight) == 3
        clock[0] = service.SLOW_AFTER_SECONDS + 0.1  # the three are slow now: they give their places back...
        assert pool.free() == 2  # ...up to the bound on all requests in flight
        while pool.free():
            pool.submit(queued.pop())
        assert len(pool.in_flight) == 5 and pool.free() == 0
        clock[0] += 10
        assert pool.free() == 0  # however long they take
        gate.open.set()
        ended = []
        while pool.in_flight:
            ended += pool.collect(1)
        assert [outcome.ok for _, outcome in ended] == [True] * 5
    finally:
        gate.open.set()
        pool.close()
    assert gate.peak == 5 and gate.calls == 5
    assert threading.get_ident() not in gate.threads  # the requests ran in the pool's threads


def test_the_concurrency_is_never_below_one_nor_the_total_below_it(settings):
    settings.IRT_WEBHOOK_CONCURRENCY, settings.IRT_WEBHOOK_MAX_IN_FLIGHT = 8, 2
    assert service.webhook_max_in_flight() == 8
    assert service.WebhookPool().free() == 8


def test_a_drain_never_has_more_requests_in_flight_than_the_concurrency(manager, receivers, settings, monkeypatch):
    settings.IRT_WEBHOOK_CONCURRENCY, settings.IRT_WEBHOOK_MAX_IN_FLIGHT = 3, 3
    notification, _ = breach_with_endpoints(manager, receivers, fast=12, slow=0)
    gate = Gate()
    monkeypatch.setattr(webhook_channel, "post", gate.post)
    timer = threading.Timer(0.5, gate.open.set)
    timer.start()
    try:
        assert service.drain(notification_id=notification.pk, channel=Channel.WEBHOOK) == 12
    finally:
        gate.open.set()
        timer.cancel()
    assert gate.peak == 3 and gate.calls == 12
    assert set(Delivery.objects.filter(notification=notification, channel=Channel.WEBHOOK).values_list(
        "status", flat=True)) == {Status.DELIVERED}


def test_a_drain_gives_back_what_it_claimed_but_could_not_send_within_the_lease(manager, receivers, settings):
    """A batch is claimed at once and waits for places in the pool; one that would outlive its lease goes back to the queue."""
    settings.IRT_WEBHOOK_TIMEOUT_SECONDS = 10
    settings.IRT_NOTIFY_LEASE_SECONDS = 12  # 0.9 x 12 - 5 = 5.8 s to start an attempt of up to 10 s: only the first may go
    notification, _ = breach_with_endpoints(manager, receivers, fast=4, slow=0)
    assert service.drain(notification_id=notification.pk, channel=Channel.WEBHOOK) == 1
    hooks = Delivery.objects.filter(notification=notification, channel=Channel.WEBHOOK)
    assert sorted(hooks.values_list("status", "attempts", "lease_until")) == [
        (Status.DELIVERED, 1, None), (Status.PENDING, 0, None), (Status.PENDING, 0, None), (Status.PENDING, 0, None)]
    assert sum(receivers.ids.values()) == 1


class Limits:
    """A stand-in for the process's open-files limits, so a test never changes the real ones."""

    def __init__(self, soft, hard, *, refuse=False):
        self.soft, self.hard, self.refuse, self.set_to = soft, hard, refuse, None

    def getrlimit(self, which):
        assert which == service.resource.RLIMIT_NOFILE
        return self.soft, self.hard

    def setrlimit(self, which, limits):
        assert which == service.resource.RLIMIT_NOFILE
        if self.refuse or limits[0] > self.hard:
            raise ValueError("not allowed")
        self.set_to = limits
        self.soft = limits[0]


@pytest.fixture
def limits(monkeypatch):
    def install(soft, hard, **kwargs):
        fake = Limits(soft, hard, **kwargs)
        monkeypatch.setattr(service.resource, "getrlimit", fake.getrlimit)
        monkeypatch.setattr(service.resource, "setrlimit", fake.setrlimit)
        return fake
    return install


def test_a_worker_raises_its_soft_open_files_limit_so_its_requests_in_flight_fit(limits, settings):
    settings.IRT_WEBHOOK_MAX_IN_FLIGHT = 1024
    fake = limits(1024, 524288)  # systemd's default for a service
    pool = service.WebhookPool()
    try:
        assert pool.max_in_flight == 1024
        assert fake.set_to == (1024 + service.OWN_OPEN_FILES, 524288)
    finally:
        pool.close()


def test_past_the_hard_limit_the_pool_holds_fewer_requests_rather_than_failing_them(limits, settings, caplog):
    settings.IRT_WEBHOOK_CONCURRENCY, settings.IRT_WEBHOOK_MAX_IN_FLIGHT = 32, 1024
    limits(256, 512)
    pool = service.WebhookPool()
    try:
        assert pool.max_in_flight == 512 - service.OWN_OPEN_FILES
        assert pool.free() == 32
        assert "open-files limit (512) holds 384 webhook requests" in caplog.text
    finally:
        pool.close()


def test_a_limit_that_cannot_be_raised_is_lived_with(limits):
    limits(300, 4096, refuse=True)
    assert service.open_files_for(1000) == 300 - service.OWN_OPEN_FILES


def test_an_unlimited_or_ample_limit_is_left_alone(limits):
    fake = limits(service.resource.RLIM_INFINITY, service.resource.RLIM_INFINITY)
    assert service.open_files_for(5000) == 5000 and fake.set_to is None
    fake = limits(100000, 100000)
    assert service.open_files_for(5000) == 5000 and fake.set_to is None
