"""Working deliveries: claim a batch under a lease, send, record the attempts, retry or give up.

At-least-once: up to ``IRT_NOTIFY_BATCH_SIZE`` due deliveries are claimed at once by a
conditional update of their lease (after ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL, so
workers never wait for each other's rows), sent outside any transaction (emails over one kept-open mail
connection, webhooks concurrently from a bounded pool of threads), then recorded in one transaction
per batch. A worker that dies mid-batch leaves
leases that expire; the sweeper queues those deliveries again and the receiver deduplicates by the
delivery id (Message-ID, webhook-id).
"""

import logging
import random
import resource
import time
import uuid
from collections import defaultdict, deque
from concurrent import futures
from dataclasses import dataclass
from queue import Empty, SimpleQueue
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from cases.models import Case
from cases.models.dashboard_data import forget_queue_data
from cases.services import customer_admin
from cases.services.notices import record_customers_notified
from notifications.channels import email as email_channel
from notifications.channels import webhook as webhook_channel
from notifications.models import Delivery, DeliveryAttempt, Notification, WebhookEndpoint
from notifications.services import outbox, queue, rendering, webhooks
from notifications.services.reminders import remind_deadlines
from irt.resilience import DATABASE_OUTAGE, retry_through_outage

logger = logging.getLogger(__name__)

Status = Delivery.Status
Channel = Delivery.Channel
Kind = Notification.Kind


def max_attempts() -> int:
    return settings.IRT_NOTIFY_MAX_ATTEMPTS


def lease_duration() -> timedelta:
    return timedelta(seconds=settings.IRT_NOTIFY_LEASE_SECONDS)


def batch_size() -> int:
    return settings.IRT_NOTIFY_BATCH_SIZE


def backoff(attempt: int, *, rng=random) -> timedelta:
    """Return the wait before attempt ``attempt + 1``: exponential, capped, with jitter (0.5–1.5×)."""
    base = settings.IRT_NOTIFY_RETRY_BASE_SECONDS * (2 ** max(0, attempt - 1))
    return timedelta(seconds=min(base, settings.IRT_NOTIFY_RETRY_MAX_SECONDS) * rng.uniform(0.5, 1.5))


def attempt_deadline(delivery: Delivery) -> float:
    """Return the longest one attempt over the delivery's channel can take, in seconds."""
    if delivery.channel == Channel.WEBHOOK:
        return settings.IRT_WEBHOOK_TIMEOUT_SECONDS
    return settings.EMAIL_TIMEOUT or 60


@dataclass
class Outcome:
    ok: bool
    detail: str = ""
    retry_after: float | None = None
    permanent: bool = False


# -- claim -------------------------------------------------------------------------------

def _locking(queryset):
    if connection.features.has_select_for_update_skip_locked:
        return queryset.select_for_update(skip_locked=True)
    return queryset


def _due(now):
    return Delivery.objects.filter(
        Q(lease_until__isnull=True) | Q(lease_until__lte=now), status=Status.PENDING, next_attempt_at__lte=now,
    ).exclude(channel=Channel.INBOX)


def claim_batch(*, now=None, ids=None, notification_id=None, channel=None, limit=None) -> list[Delivery]:
    """Take the lease on up to ``limit`` due deliveries (of ``ids``, a notification, a channel); return them.

    Rows another worker holds are skipped, not waited for. The lease is a conditional update that
    repeats the due condition, so on SQLite (no row locks) two workers that read the same rows
    cannot both win one: the loser re-reads which rows carry its token.
    """
    now = now or timezone.now()
    with transaction.atomic():
        due = _due(now)
        if ids is not None:
            due = due.filter(pk__in=list(ids))
        if notification_id is not None:
            due = due.filter(notification_id=notification_id)
        if channel is not None:
            due = due.filter(channel=channel)
        rows = list(_locking(due.order_by("next_attempt_at"))[: limit or batch_size()])
        busy = _busy_endpoints(rows, now=now)
        ready = []
        for delivery in rows:
            if delivery.attempts >= max_attempts():
                # The last attempt's worker died holding the lease.
                _give_up(delivery, "The worker stopped during the last attempt.", now=now)
            elif delivery.channel == Channel.WEBHOOK and delivery.endpoint_id in busy:
                # One attempt per endpoint at a time: a slow receiver then holds one request (for one
                # attempt's deadline at most), never all of them, and other organisations' notices go on.
                _schedule_next_attempt(delivery, now + timedelta(seconds=settings.IRT_WEBHOOK_TIMEOUT_SECONDS), now=now)
            else:
                if delivery.channel == Channel.WEBHOOK:
                    busy.add(delivery.endpoint_id)  # the batch's next delivery to it waits for this one
                ready.append(delivery)
        if not ready:
            return []
        token, until = uuid.uuid4(), now + lease_duration()
        won = _due(now).filter(pk__in=[d.pk for d in ready]).update(lease_until=until, lease_token=token,
                                                                   attempts=F("attempts") + 1)
        if won != len(ready):
            mine = set(Delivery.objects.filter(lease_token=token).values_list("pk", flat=True))
            ready = [d for d in ready if d.pk in mine]
        for delivery in ready:
            delivery.lease_token, delivery.lease_until, delivery.attempts = token, until, delivery.attempts + 1
        return ready


def claim(delivery_id, *, now=None) -> Delivery | None:
    """Take the lease on one due delivery; return it, or None when it is not ours to send."""
    claimed = claim_batch(ids=[delivery_id], now=now, limit=1)
    return claimed[0] if claimed else None


def release(deliveries: list[Delivery]) -> None:
    """Give back claimed deliveries that were not attempted (the batch ran out of lease), and queue them again."""
    if not deliveries:
        return
    with transaction.atomic():
        for token, group in _by(deliveries, lambda d: d.lease_token).items():
            Delivery.objects.filter(pk__in=[d.pk for d in group], lease_token=token, status=Status.PENDING).update(
                lease_until=None, attempts=F("attempts") - 1)
        _enqueue_on_commit(deliveries, run_after=None)


# -- send --------------------------------------------------------------------------------

def send(delivery: Delivery, *, email_connection=None, mailer=None, batch=None) -> Outcome:
    """Send one delivery once. Network and protocol errors become a failed ``Outcome``."""
    try:
        if delivery.channel == Channel.EMAIL:
            mailer = mailer or email_channel.Mailer(email_connection)
            mailer.send(rendering.build_email(delivery, batch=batch))
            return Outcome(True, "accepted by the mail server")
        if delivery.channel == Channel.WEBHOOK:
            prepared = _prepare_webhook(delivery, batch=batch)
            return prepared.outcome or _webhook_outcome(delivery, _post_webhook(prepared))
        return Outcome(False, f"unknown channel {delivery.channel}", permanent=True)
    except Exception as exc:  # noqa: BLE001 - any failure of the far side is an attempt that failed
        return _failed(exc)


def _failed(exc: Exception) -> Outcome:
    if isinstance(exc, webhook_channel.WebhookRefused):
        return Outcome(False, str(exc), permanent=True)
    return Outcome(False, f"{type(exc).__name__}: {exc}"[:1000])


# -- webhooks from a pool of threads -----------------------------------------------------
#
# A webhook is prepared (endpoint, secrets, body: database reads) and its outcome interpreted
# (a 410 disables the endpoint) in the worker's own thread; only the POST runs in a pool thread,
# which never touches the database (so it opens no connection of its own). Each POST has its own
# HTTP connection, its deadline (``IRT_WEBHOOK_TIMEOUT_SECONDS``) and the send-time SSRF check.

# A request still unanswered after this long is slow: it no longer counts against
# ``IRT_WEBHOOK_CONCURRENCY``, only against ``IRT_WEBHOOK_MAX_IN_FLIGHT``.
SLOW_AFTER_SECONDS = 0.25


@dataclass
class PreparedWebhook:
    delivery: Delivery
    url: str = ""
    secrets: tuple[str, ...] = ()
    body: bytes = b""
    outcome: Outcome | None = None  # decided without a request (endpoint disabled, rendering failed)


def _prepare_webhook(delivery: Delivery, *, batch=None) -> PreparedWebhook:
    """Read and render what one POST needs (database access, so in the worker's own thread)."""
    try:
        endpoint = delivery.endpoint
        if endpoint is None or not endpoint.is_active:
            return PreparedWebhook(delivery, outcome=Outcome(False, "the webhook endpoint is disabled", permanent=True))
        return PreparedWebhook(delivery, url=endpoint.url, secrets=tuple(webhooks.signing_secrets(endpoint)),
                               body=rendering.webhook_payload(delivery, batch=batch))
    except Exception as exc:  # noqa: BLE001 - an attempt that failed, recorded like any other
        return PreparedWebhook(delivery, outcome=_failed(exc))


def _post_webhook(prepared: PreparedWebhook):
    """POST one prepared webhook; return the receiver's answer or a failed ``Outcome``. No database access."""
    try:
        return webhook_channel.post(url=prepared.url, secret=list(prepared.secrets), msg_id=str(prepared.delivery.pk),
                                    body=prepared.body)
    except Exception as exc:  # noqa: BLE001 - network errors and the deadline are failed attempts
        return _failed(exc)


def _webhook_outcome(delivery: Delivery, result) -> Outcome:
    """Turn the receiver's answer into an outcome (disabling the endpoint on 410 Gone)."""
    if isinstance(result, Outcome):
        return result
    if result.ok:
        return Outcome(True, f"HTTP {result.status}")
    if result.gone:
        try:
            WebhookEndpoint.objects.filter(pk=delivery.endpoint_id).update(
                is_active=False, disabled_reason=f"The receiver answered 410 Gone on {timezone.now():%Y-%m-%d %H:%M} UTC.")
        except Exception:  # noqa: BLE001 - the delivery still ends; the next one to this endpoint sees 410 again
            logger.exception("Disabling webhook endpoint %s after 410 Gone failed.", delivery.endpoint_id)
        return Outcome(False, "HTTP 410 Gone: endpoint disabled", permanent=True)
    return Outcome(False, f"HTTP {result.status} {result.detail[:300]}".strip(), retry_after=result.retry_after)


def webhook_concurrency() -> int:
    return settings.IRT_WEBHOOK_CONCURRENCY


def webhook_max_in_flight() -> int:
    return max(settings.IRT_WEBHOOK_MAX_IN_FLIGHT, webhook_concurrency())


# Open files a worker keeps for itself beside its webhook sockets: the database connection, logs, the
# resolver's sockets, the SMTP connection.
OWN_OPEN_FILES = 128


def open_files_for(sockets: int) -> int:
    """Raise this process's soft limit on open files so ``sockets`` requests fit; return how many fit.

    A service manager's soft limit is often 1,024 (systemd's default) while the hard limit is far
    higher: past the soft one every new request would fail with "too many open files". Raising the
    soft limit up to the hard one needs no privilege; past the hard one the pool holds fewer
    requests in flight rather than failing them.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = sockets + OWN_OPEN_FILES
    if soft != resource.RLIM_INFINITY and soft < wanted:
        raised = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
            soft = raised
        except (ValueError, OSError):
            logger.warning("Could not raise the open-files limit from %s to %s.", soft, raised)
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return sockets
    fits = max(1, soft - OWN_OPEN_FILES)
    logger.warning("The open-files limit (%s) holds %s webhook requests in flight, not %s: raise the hard limit "
                   "(LimitNOFILE) or lower IRT_WEBHOOK_MAX_IN_FLIGHT.", soft, fits, sockets)
    return fits


class WebhookPool:
    """POST webhooks from a bounded pool of threads, so a slow receiver holds one thread, not the worker.

    At most ``IRT_WEBHOOK_CONCURRENCY`` requests younger than ``SLOW_AFTER_SECONDS`` are in flight,
    and at most ``IRT_WEBHOOK_MAX_IN_FLIGHT`` in all: a request that is slow to be answered gives
    its place to the next one, so receivers that answer at once keep their full rate while a slow
    minority waits out its answers (or its deadline) on the side.
    """

    def __init__(self, *, clock=time.monotonic):
        self.clock = clock
        self.in_flight: dict[futures.Future, tuple[PreparedWebhook, float]] = {}
        # The work per call stays flat however many slow requests are waiting: the young ones are
        # counted among those started in the last SLOW_AFTER_SECONDS only, and each request hands
        # itself in as it ends instead of every request in flight being watched on each wait.
        self._recent: deque[tuple[float, futures.Future]] = deque()
        self._ended: SimpleQueue[futures.Future] = SimpleQueue()
        self.max_in_flight = open_files_for(webhook_max_in_flight())
        self._executor = futures.ThreadPoolExecutor(max_workers=self.max_in_flight, thread_name_prefix="irt-webhook")

    def free(self) -> int:
        """Return how many more requests may start now."""
        now, recent = self.clock(), self._recent
        while recent and now - recent[0][0] >= SLOW_AFTER_SECONDS:
            recent.popleft()
        young = sum(1 for _, future in recent if future in self.in_flight)
        return max(0, min(webhook_concurrency() - young, self.max_in_flight - len(self.in_flight)))

    def submit(self, prepared: PreparedWebhook) -> None:
        started = self.clock()
        future = self._executor.submit(_post_webhook, prepared)
        self.in_flight[future] = (prepared, started)
        self._recent.append((started, future))
        future.add_done_callback(self._ended.put)

    def _take_ended(self, timeout: float) -> list[futures.Future]:
        try:
            ended = [self._ended.get(timeout=timeout) if timeout > 0 else self._ended.get_nowait()]
        except Empty:
            return []
        while True:
            try:
                ended.append(self._ended.get_nowait())
            except Empty:
                return ended

    def collect(self, timeout: float) -> list[tuple[Delivery, Outcome]]:
        """Wait up to ``timeout`` for a request to end; return the outcomes of those that ended."""
        if not self.in_flight:
            return []
        results = []
        for future in self._take_ended(timeout):
            prepared, _ = self.in_flight.pop(future)
            delivery = prepared.delivery
            outcome = _webhook_outcome(delivery, future.result())
            if not outcome.ok:
                logger.warning("Delivery %s attempt %s failed: %s", delivery.pk, delivery.attempts, outcome.detail)
            results.append((delivery, outcome))
        return results

    def close(self) -> None:
        self._executor.shutdown(wait=True)


# -- record ------------------------------------------------------------------------------

def _by(items, key) -> dict:
    groups = defaultdict(list)
    for item in items:
        groups[key(item)].append(item)
    return groups


def _give_up(delivery: Delivery, error: str, *, now, log_attempt: bool = True) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(status=Status.DEAD, lease_until=None, last_error=error)
    forget_queue_data()  # a dead delivery shows on the dashboard
    delivery.status, delivery.last_error = Status.DEAD, error
    if log_attempt:
        DeliveryAttempt.objects.create(delivery=delivery, number=delivery.attempts, at=now, ok=False, detail=error)
    outbox.notify_dead_delivery(Delivery.objects.select_related("notification", "endpoint", "user").get(pk=delivery.pk), now=now)


def _record_breach_notices(delivered: list[Delivery], *, now) -> None:
    """Stamp each organisation notified: the fact behind both the 72-hour deadline and the close guard."""
    for case_id, group in _by(delivered, lambda d: d.notification.case_id).items():
        how = {}
        for d in group:
            how.setdefault(d.organization_id, f"breach notice delivered by {d.get_channel_display().lower()} to {d.recipient_label}")
        record_customers_notified(case=Case(pk=case_id), notices=how, at=now)


def record_outcomes(results: list[tuple[Delivery, Outcome]], *, now=None) -> dict:
    """Record a batch of attempts in one transaction; return each delivery's status afterwards.

    One bulk INSERT of attempt rows, one UPDATE for every delivered one, one row each for the
    (rare) failures, then the breach notices' organisations: one case lock per batch and case,
    never one per organisation.
    """
    now = now or timezone.now()
    statuses = {}
    with transaction.atomic():
        # Cases before deliveries, the order a withdrawal (case, then its pending deliveries) takes:
        # the other order could deadlock with it.
        cases = sorted({d.notification.case_id for d, o in results if o.ok and d.notification.kind == Kind.BREACH_NOTICE})
        list(Case.objects.select_for_update().filter(pk__in=cases).order_by("pk").values_list("pk", flat=True))
        current = {pk: (status, token) for pk, status, token in Delivery.objects.select_for_update().filter(
            pk__in=[d.pk for d, _ in results]).values_list("pk", "status", "lease_token")}
        DeliveryAttempt.objects.bulk_create([DeliveryAttempt(delivery_id=d.pk, number=d.attempts, at=now, ok=o.ok, detail=o.detail)
                                             for d, o in results])
        delivered = [d for d, o in results if o.ok and current[d.pk][0] != Status.DELIVERED]
        if delivered:
            Delivery.objects.filter(pk__in=[d.pk for d in delivered]).update(
                status=Status.DELIVERED, delivered_at=now, lease_until=None, last_error="")
        for d, o in results:
            statuses[d.pk] = Status.DELIVERED if o.ok else current[d.pk][0]
        retries = []
        for d, o in results:
            if o.ok:
                continue
            status, token = current[d.pk]
            if status != Status.PENDING or token != d.lease_token:
                # Someone else owns it now (our lease expired); their attempt decides.
                continue
            d.last_error = o.detail
            if o.permanent or d.attempts >= max_attempts():
                _give_up(d, o.detail, now=now, log_attempt=False)
                statuses[d.pk] = Status.DEAD
                continue
            wait = backoff(d.attempts)
            if o.retry_after is not None:
                wait = max(wait, timedelta(seconds=min(o.retry_after, settings.IRT_NOTIFY_RETRY_MAX_SECONDS)))
            d.next_attempt_at = now + wait
            retries.append(d)
        _schedule_retries(retries, now=now)
        _record_breach_notices([d for d in delivered if d.notification.kind == Kind.BREACH_NOTICE], now=now)
    return statuses


def record_outcome(delivery: Delivery, outcome: Outcome, *, now=None) -> str:
    """Record one attempt; return the delivery's status afterwards."""
    return record_outcomes([(delivery, outcome)], now=now)[delivery.pk]


def _schedule_retries(deliveries: list[Delivery], *, now) -> None:
    deferred = queue.can_defer()
    for d in deliveries:
        Delivery.objects.filter(pk=d.pk).update(next_attempt_at=d.next_attempt_at, enqueued_at=now if deferred else None,
                                                lease_until=None, last_error=d.last_error)
    if not deferred:
        return
    for channel in (Channel.EMAIL, Channel.WEBHOOK):
        group = [d for d in deliveries if d.channel == channel]
        if group:
            # One task for the batch's emails and one for its webhooks, at the latest of their times
            # (each is due by then); the webhooks of one task are sent concurrently.
            ids, run_after = [d.pk for d in group], max(d.next_attempt_at for d in group)
            transaction.on_commit(lambda ids=ids, run_after=run_after: queue.enqueue_deliveries(ids, run_after=run_after))


def _schedule_next_attempt(delivery: Delivery, next_at, *, now) -> None:
    """Hold a delivery until ``next_at`` and queue its task for then (or leave it to the sweeper)."""
    deferred = queue.can_defer()
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=next_at, enqueued_at=now if deferred else None)
    if deferred:
        transaction.on_commit(lambda: queue.enqueue_deliveries([delivery.pk], run_after=next_at))


def _enqueue_on_commit(deliveries: list[Delivery], *, run_after) -> None:
    """Queue tasks for ``deliveries`` on commit: in batches, the emails apart from the webhooks."""
    emails = [d.pk for d in deliveries if d.channel == Channel.EMAIL]
    hooks = [d.pk for d in deliveries if d.channel != Channel.EMAIL]
    transaction.on_commit(lambda: (queue.enqueue_deliveries(emails, run_after=run_after),
                                   queue.enqueue_deliveries(hooks, run_after=run_after)))


def _busy_endpoints(rows: list[Delivery], *, now) -> set:
    """Return which of the rows' webhook endpoints another delivery is being attempted to right now (one query)."""
    endpoints = {d.endpoint_id for d in rows if d.channel == Channel.WEBHOOK and d.endpoint_id is not None}
    if not endpoints:
        return set()
    return set(Delivery.objects.filter(endpoint_id__in=endpoints, status=Status.PENDING, lease_until__gt=now).exclude(
        pk__in=[d.pk for d in rows]).values_list("endpoint_id", flat=True).distinct())


# -- the worker --------------------------------------------------------------------------

def deliver_batch(*, now=None, ids=None, notification_id=None, channel=None, limit=None, email_connection=None,
                  clock=time.monotonic) -> dict:
    """Claim up to ``limit`` due deliveries, attempt each once, record them; return ``{id: status}``.

    Webhooks go out from a ``WebhookPool`` while the emails go out one by one over the worker's
    mail connection. A send that could end after the lease does not start: the rest of the batch
    is given back, so a slow server never lets another worker claim a delivery this one may still send.
    """
    claimed = claim_batch(now=now, ids=ids, notification_id=notification_id, channel=channel, limit=limit)
    if not claimed:
        return {}
    started = clock()
    batch = rendering.Batch(claimed)
    # Leave a tenth of the lease (at least 5 s) for recording the outcomes.
    budget = lease_duration().total_seconds() * 0.9 - 5
    hooks = deque(d for d in claimed if d.channel == Channel.WEBHOOK)
    emails = [d for d in claimed if d.channel != Channel.WEBHOOK]
    results, unsent, attempted = [], [], 0

    def too_late(delivery) -> bool:
        # At least one attempt per batch, whatever the settings, so a batch always moves.
        return clock() - started + attempt_deadline(delivery) > budget and attempted > 0

    pool = WebhookPool() if hooks else None

    def start_webhooks():
        nonlocal attempted
        while hooks and pool.free():
            if too_late(hooks[0]):
                unsent.extend(hooks)
                hooks.clear()
                return
            prepared = _prepare_webhook(hooks.popleft(), batch=batch)
            attempted += 1
            if prepared.outcome is not None:
                results.append((prepared.delivery, prepared.outcome))
            else:
                pool.submit(prepared)

    try:
        if pool is not None:
            start_webhooks()
        mailer = None
        for position, delivery in enumerate(emails):
            if too_late(delivery):
                unsent.extend(emails[position:])
                break
            if mailer is None:
                mailer = email_channel.Mailer(email_connection) if email_connection is not None else email_channel.worker_mailer()
            outcome = send(delivery, mailer=mailer, batch=batch)
            attempted += 1
            if not outcome.ok:
                logger.warning("Delivery %s attempt %s failed: %s", delivery.pk, delivery.attempts, outcome.detail)
            results.append((delivery, outcome))
            if pool is not None:
                results.extend(pool.collect(0))
                start_webhooks()
        while pool is not None and (hooks or pool.in_flight):
            results.extend(pool.collect(0.05))
            start_webhooks()
    finally:
        if pool is not None:
            pool.close()
    # The far side has them now: a database outage here must not turn into second sends, so wait
    # it out for as long as the lease protects the deliveries from other workers.
    statuses = _record_through_outage(results, now=now)
    if unsent:
        retry_through_outage(lambda: release(unsent), what=f"releasing {len(unsent)} deliveries",
                             give_up_after=lease_duration().total_seconds())
    return statuses


def _record_through_outage(results, *, now) -> dict:
    record = _recorder(now)
    return retry_through_outage(lambda: record(results), what=f"recording {len(results)} deliveries",
                                give_up_after=lease_duration().total_seconds())


def _recorder(now):
    """Return a function recording a batch's outcomes, remembering what it recorded across retries."""
    done: dict = {}

    def record(results):
        todo = [(d, o) for d, o in results if d.pk not in done]
        try:
            done.update(record_outcomes(todo, now=now))
        except DATABASE_OUTAGE:
            raise
        except Exception:
            # One bad row must not cost the others their record (they would be sent again).
            logger.exception("Recording %d outcomes together failed; recording them one by one.", len(todo))
            for item in todo:
                try:
                    done.update(record_outcomes([item], now=now))
                except DATABASE_OUTAGE:
                    raise
                except Exception:
                    logger.exception("Recording the outcome of delivery %s failed; its lease will expire.", item[0].pk)
        return {d.pk: done.get(d.pk, Status.PENDING) for d, _ in results}

    return record


def deliver(delivery_id, *, now=None, email_connection=None) -> str:
    """Make one attempt at a delivery if it is due and unclaimed; return its status afterwards."""
    delivery_id = uuid.UUID(str(delivery_id))
    statuses = deliver_batch(now=now, ids=[delivery_id], limit=1, email_connection=email_connection)
    return statuses.get(delivery_id, "skipped")


def _drain_limit() -> float:
    return min(60, settings.IRT_NOTIFY_REQUEUE_AFTER_SECONDS / 4)


def drain(*, notification_id: int, channel: str = Channel.EMAIL, now=None, clock=time.monotonic) -> int:
    """Work a notification's due emails (or webhooks) until none is left; return how many were attempted.

    A drain runs for a bounded time (a quarter of ``IRT_NOTIFY_REQUEUE_AFTER_SECONDS``, at most a
    minute) and then queues its successor, so no task runs long enough to look dead to the sweeper.
    """
    if channel == Channel.WEBHOOK:
        return drain_webhooks(notification_id=notification_id, now=now, clock=clock)
    started, attempted = clock(), 0
    while True:
        statuses = deliver_batch(now=now, notification_id=notification_id, channel=Channel.EMAIL, clock=clock)
        attempted += len(statuses)
        if not statuses:
            return attempted
        if clock() - started > _drain_limit():
            queue.enqueue_drain(notification_id)
            return attempted


def drain_webhooks(*, notification_id: int, now=None, clock=time.monotonic, record_every: float = 0.5) -> int:
    """Keep a ``WebhookPool`` full with a notification's due webhooks; return how many were attempted.

    Deliveries are claimed a whole batch at a time (``SKIP LOCKED``, ``IRT_NOTIFY_BATCH_SIZE``,
    under one lease) and wait here for places in the pool, so the claim and the batch's reads are
    paid once per batch, not once per handful of places that came free. The ended attempts are
    recorded together every ``record_every`` seconds or batch size, so the receivers that answer at
    once are claimed, sent and recorded at their own pace whatever the slow ones do. A claimed
    delivery that could no longer end within its lease is given back. Bounded in time like an
    email drain; the successor is queued when work may remain.
    """
    started, attempted, exhausted = clock(), 0, False
    ended, recorded_at = [], clock()
    waiting: deque[tuple[Delivery, rendering.Batch, float]] = deque()
    unsent: list[Delivery] = []
    budget = lease_duration().total_seconds() * 0.9 - 5  # a tenth of the lease (at least 5 s) to record the outcomes
    pool = WebhookPool()
    try:
        while True:
            in_time = clock() - started <= _drain_limit()
            if not waiting and not exhausted and in_time and pool.free():
                claimed = claim_batch(now=now, notification_id=notification_id, channel=Channel.WEBHOOK, limit=batch_size())
                exhausted = not claimed
                if claimed:
                    batch, claimed_at = rendering.Batch(claimed), clock()
                    waiting.extend((delivery, batch, claimed_at) for delivery in claimed)
            while waiting and pool.free():
                delivery, batch, claimed_at = waiting.popleft()
                # At least one attempt per drain, whatever the settings, so a drain always moves.
                if attempted and clock() - claimed_at + attempt_deadline(delivery) > budget:
                    unsent.append(delivery)
                    continue
                prepared = _prepare_webhook(delivery, batch=batch)
                attempted += 1
                if prepared.outcome is not None:
                    ended.append((delivery, prepared.outcome))
                else:
                    pool.submit(prepared)
            if not pool.in_flight and not waiting and (exhausted or not in_time):
                break
            ended.extend(pool.collect(0.05))
            if ended and (len(ended) >= batch_size() or clock() - recorded_at >= record_every or not pool.in_flight):
                _record_through_outage(ended, now=now)
                ended, recorded_at = [], clock()
    finally:
        pool.close()
        ended.extend(pool.collect(0))  # sent: recorded even when the loop stopped on an error
        if ended:
            _record_through_outage(ended, now=now)
        unsent.extend(delivery for delivery, _, _ in waiting)  # claimed, never sent: back to the queue
        if unsent:
            retry_through_outage(lambda: release(unsent), what=f"releasing {len(unsent)} deliveries",
                                 give_up_after=lease_duration().total_seconds())
    if not exhausted:
        queue.enqueue_drain(notification_id, channel=Channel.WEBHOOK)
    return attempted


# -- staff actions and the sweeper -------------------------------------------------------

@transaction.atomic
def retry_now(*, delivery: Delivery, by) -> Delivery:
    """Queue a pending or dead delivery for an attempt now, with a fresh set of attempts."""
    locked = Delivery.objects.select_for_update().get(pk=delivery.pk)
    if locked.status == Status.DELIVERED or locked.channel == Channel.INBOX:
        return locked
    now = timezone.now()
    Delivery.objects.filter(pk=locked.pk).update(status=Status.PENDING, attempts=0, next_attempt_at=now, lease_until=None,
                                                 enqueued_at=now)
    forget_queue_data()  # it leaves the dashboard's dead deliveries
    DeliveryAttempt.objects.create(delivery=locked, number=0, at=now, ok=False,
                                   detail=f"Retry requested by {by.get_username()}." if by else "Retry requested.")
    transaction.on_commit(lambda: queue.enqueue_deliveries([locked.pk]))
    locked.refresh_from_db()
    return locked


@transaction.atomic
def retry_customer_delivery(*, by, delivery: Delivery, request=None) -> Delivery:
    """Queue another attempt of one of a customer administrator's own webhook deliveries."""
    if delivery.endpoint is None:
        raise PermissionDenied("Only webhook deliveries are retried here.")
    webhooks.check_own_endpoint(by, delivery.endpoint)
    retried = retry_now(delivery=delivery, by=by)
    customer_admin.record_change(by=by, request=request, what=f"asked for another attempt of webhook delivery {delivery.pk}")
    return retried


def sweep(*, now=None, limit: int = 1000) -> dict:
    """Queue deliveries whose worker died (lease expired) or whose task went missing; send reminders.

    A delivery whose task is still waiting in the queue (an outage held the worker back, or a
    drain of its notification is under way) is left alone, so an outage does not double the
    queue; tasks of workers that died mid-run are ended.
    """
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.IRT_NOTIFY_REQUEUE_AFTER_SECONDS)
    reclaimed = queue.reclaim_stuck_tasks(started_before=stale)
    with transaction.atomic():
        due = _locking(Delivery.objects.filter(status=Status.PENDING, next_attempt_at__lte=now).exclude(channel=Channel.INBOX).filter(
            Q(lease_until__lte=now) | Q(lease_until__isnull=True, enqueued_at__isnull=True)
            | Q(lease_until__isnull=True, enqueued_at__lte=stale)
        ).order_by("next_attempt_at"))
        rows = list(due.values_list("pk", "lease_until", "notification_id", "channel")[:limit])
        # A lapsed lease means the worker holding it is gone, whatever its task row says.
        waiting = queue.waiting_delivery_ids([(pk, notification, channel) for pk, lease, notification, channel in rows
                                              if lease is None], running_since=stale)
        requeued = [Delivery(pk=pk, channel=channel) for pk, _, _, channel in rows if str(pk) not in waiting]
        Delivery.objects.filter(pk__in=[d.pk for d in requeued]).update(enqueued_at=now)
        _enqueue_on_commit(requeued, run_after=None)
    reminders = remind_deadlines(now=now)
    return {"requeued": len(requeued), "reminders": reminders, "reclaimed": reclaimed}
