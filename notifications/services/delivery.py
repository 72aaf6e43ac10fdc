"""Working deliveries: claim under a lease, send, record the attempt, retry or give up.

At-least-once: a delivery is claimed by a conditional update of its lease (and, on
PostgreSQL, ``SELECT … FOR UPDATE SKIP LOCKED``), sent outside any transaction, then marked.
A worker that dies mid-send leaves a lease that expires; the sweeper queues the delivery again
and the receiver deduplicates by the delivery id (Message-ID, webhook-id).
"""

import logging
import random
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from cases.models import AffectedCustomer
from cases.services import customer_admin
from cases.services.notices import record_customer_notified
from notifications.channels import email as email_channel
from notifications.channels import webhook as webhook_channel
from notifications.models import Delivery, DeliveryAttempt, Notification, WebhookEndpoint
from notifications.services import outbox, queue, rendering, webhooks
from notifications.services.reminders import remind_deadlines
from irt.resilience import retry_through_outage

logger = logging.getLogger(__name__)

Status = Delivery.Status
Channel = Delivery.Channel
Kind = Notification.Kind


def max_attempts() -> int:
    return settings.IRT_NOTIFY_MAX_ATTEMPTS


def lease_duration() -> timedelta:
    return timedelta(seconds=settings.IRT_NOTIFY_LEASE_SECONDS)


def backoff(attempt: int, *, rng=random) -> timedelta:
    """Return the wait before attempt ``attempt + 1``: exponential, capped, with jitter (0.5–1.5×)."""
    base = settings.IRT_NOTIFY_RETRY_BASE_SECONDS * (2 ** max(0, attempt - 1))
    return timedelta(seconds=min(base, settings.IRT_NOTIFY_RETRY_MAX_SECONDS) * rng.uniform(0.5, 1.5))


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


def claim(delivery_id, *, now=None) -> Delivery | None:
    """Take the lease on a due delivery; return it, or None when it is not ours to send."""
    now = now or timezone.now()
    with transaction.atomic():
        delivery = _locking(Delivery.objects.filter(
            Q(lease_until__isnull=True) | Q(lease_until__lte=now),
            pk=delivery_id, status=Status.PENDING, next_attempt_at__lte=now,
        ).exclude(channel=Channel.INBOX)).first()
        if delivery is None:
            return None
        if delivery.attempts >= max_attempts():
            # The last attempt's worker died holding the lease.
            _give_up(delivery, "The worker stopped during the last attempt.", now=now)
            return None
        if delivery.channel == Channel.WEBHOOK and _endpoint_busy(delivery, now=now):
            # One attempt per endpoint at a time: a slow receiver then holds one worker (for one
            # attempt's deadline at most), never all of them, and other organisations' notices go on.
            _schedule_next_attempt(delivery.pk, now + timedelta(seconds=settings.IRT_WEBHOOK_TIMEOUT_SECONDS), now=now)
            return None
        token = uuid.uuid4()
        # Compare-and-set on the previous token: on SQLite (no row locks) two workers that read the
        # same row cannot both win.
        won = Delivery.objects.filter(pk=delivery.pk, status=Status.PENDING, lease_token=delivery.lease_token).update(
            lease_until=now + lease_duration(), lease_token=token, attempts=delivery.attempts + 1,
        )
        if not won:
            return None
        delivery.lease_token, delivery.attempts, delivery.lease_until = token, delivery.attempts + 1, now + lease_duration()
        return delivery


# -- send --------------------------------------------------------------------------------

def send(delivery: Delivery, *, email_connection=None) -> Outcome:
    """Send one delivery once. Network and protocol errors become a failed ``Outcome``."""
    try:
        if delivery.channel == Channel.EMAIL:
            email_channel.send(rendering.build_email(delivery, connection=email_connection), connection=email_connection)
            return Outcome(True, "accepted by the mail server")
        if delivery.channel == Channel.WEBHOOK:
            endpoint = delivery.endpoint
            if endpoint is None or not endpoint.is_active:
                return Outcome(False, "the webhook endpoint is disabled", permanent=True)
            result = webhook_channel.post(url=endpoint.url, secret=webhooks.signing_secrets(endpoint), msg_id=str(delivery.pk),
                                          body=rendering.webhook_payload(delivery))
            if result.ok:
                return Outcome(True, f"HTTP {result.status}")
            if result.gone:
                WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
                    is_active=False, disabled_reason=f"The receiver answered 410 Gone on {timezone.now():%Y-%m-%d %H:%M} UTC.")
                return Outcome(False, "HTTP 410 Gone: endpoint disabled", permanent=True)
            return Outcome(False, f"HTTP {result.status} {result.detail[:300]}".strip(), retry_after=result.retry_after)
        return Outcome(False, f"unknown channel {delivery.channel}", permanent=True)
    except webhook_channel.WebhookRefused as exc:
        return Outcome(False, str(exc), permanent=True)
    except Exception as exc:  # noqa: BLE001 - any failure of the far side is an attempt that failed
        return Outcome(False, f"{type(exc).__name__}: {exc}"[:1000])


# -- record ------------------------------------------------------------------------------

def _give_up(delivery: Delivery, error: str, *, now, log_attempt: bool = True) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(status=Status.DEAD, lease_until=None, last_error=error)
    delivery.status, delivery.last_error = Status.DEAD, error
    if log_attempt:
        DeliveryAttempt.objects.create(delivery=delivery, number=delivery.attempts, at=now, ok=False, detail=error)
    outbox.notify_dead_delivery(Delivery.objects.select_related("notification", "endpoint", "user").get(pk=delivery.pk), now=now)


def _record_breach_notice(delivery: Delivery, *, now) -> None:
    """Stamp the organisation notified: the fact behind both the 72-hour deadline and the close guard."""
    row = AffectedCustomer.objects.filter(case_id=delivery.notification.case_id).visible_to(delivery.organization_id).first()
    if row is not None and row.notified_at is None:
        record_customer_notified(row=row, how=f"breach notice delivered by {delivery.get_channel_display().lower()} "
                                 f"to {delivery.recipient_label}", at=now)


def record_outcome(delivery: Delivery, outcome: Outcome, *, now=None) -> Delivery:
    now = now or timezone.now()
    with transaction.atomic():
        current = Delivery.objects.select_for_update().get(pk=delivery.pk)
        DeliveryAttempt.objects.create(delivery=current, number=delivery.attempts, at=now, ok=outcome.ok, detail=outcome.detail)
        if outcome.ok:
            if current.status != Status.DELIVERED:
                Delivery.objects.filter(pk=current.pk).update(
                    status=Status.DELIVERED, delivered_at=now, lease_until=None, last_error="")
                if delivery.notification.kind == Kind.BREACH_NOTICE:
                    _record_breach_notice(delivery, now=now)
            return current
        if current.status != Status.PENDING or current.lease_token != delivery.lease_token:
            # Someone else owns it now (our lease expired); their attempt decides.
            return current
        current.last_error = outcome.detail
        if outcome.permanent or current.attempts >= max_attempts():
            _give_up(current, outcome.detail, now=now, log_attempt=False)
            return current
        wait = backoff(current.attempts)
        if outcome.retry_after is not None:
            wait = max(wait, timedelta(seconds=min(outcome.retry_after, settings.IRT_NOTIFY_RETRY_MAX_SECONDS)))
        _schedule_next_attempt(current.pk, now + wait, now=now, lease_until=None, last_error=outcome.detail)
        return current


def _schedule_next_attempt(delivery_id, next_at, *, now, **fields) -> None:
    """Hold a delivery until ``next_at`` and queue its task for then (or leave it to the sweeper)."""
    deferred = queue.can_defer()
    Delivery.objects.filter(pk=delivery_id).update(next_attempt_at=next_at, enqueued_at=now if deferred else None, **fields)
    if deferred:
        transaction.on_commit(lambda: queue.enqueue_deliveries([delivery_id], run_after=next_at))


def _endpoint_busy(delivery: Delivery, *, now) -> bool:
    """Return whether another delivery to the same webhook endpoint is being attempted right now."""
    return Delivery.objects.filter(endpoint_id=delivery.endpoint_id, status=Status.PENDING, lease_until__gt=now).exclude(
        pk=delivery.pk).exists()


def deliver(delivery_id, *, now=None, email_connection=None) -> str:
    """Make one attempt at a delivery if it is due and unclaimed; return its status afterwards."""
    claimed = claim(delivery_id, now=now)
    if claimed is None:
        return "skipped"
    delivery = Delivery.objects.select_related(
        "notification", "notification__case", "notification__incident_update", "notification__published_review",
        "endpoint", "user", "organization",
    ).get(pk=claimed.pk)
    delivery.lease_token, delivery.attempts = claimed.lease_token, claimed.attempts
    outcome = send(delivery, email_connection=email_connection)
    if not outcome.ok:
        logger.warning("Delivery %s attempt %s failed: %s", delivery.pk, delivery.attempts, outcome.detail)
    # The far side has it now: a database outage here must not turn into a second send, so wait
    # it out for as long as the lease protects the delivery from another worker.
    return retry_through_outage(
        lambda: _record_and_read_status(delivery, outcome, now=now), what=f"recording delivery {delivery.pk}",
        give_up_after=lease_duration().total_seconds(),
    )


def _record_and_read_status(delivery: Delivery, outcome: Outcome, *, now) -> str:
    record_outcome(delivery, outcome, now=now)
    return Delivery.objects.filter(pk=delivery.pk).values_list("status", flat=True).get()


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

    A delivery whose task is still waiting in the queue (an outage held the worker back) is left
    alone, so an outage does not double the queue; tasks of workers that died mid-run are ended.
    """
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.IRT_NOTIFY_REQUEUE_AFTER_SECONDS)
    reclaimed = queue.reclaim_stuck_tasks(started_before=stale)
    with transaction.atomic():
        due = _locking(Delivery.objects.filter(status=Status.PENDING, next_attempt_at__lte=now).exclude(channel=Channel.INBOX).filter(
            Q(lease_until__lte=now) | Q(lease_until__isnull=True, enqueued_at__isnull=True)
            | Q(lease_until__isnull=True, enqueued_at__lte=stale)
        ).order_by("next_attempt_at"))
        rows = list(due.values_list("pk", "lease_until")[:limit])
        # A lapsed lease means the worker holding it is gone, whatever its task row says.
        waiting = queue.waiting_delivery_ids([pk for pk, lease in rows if lease is None], running_since=stale)
        ids = [pk for pk, _ in rows if str(pk) not in waiting]
        Delivery.objects.filter(pk__in=ids).update(enqueued_at=now)
        transaction.on_commit(lambda: queue.enqueue_deliveries(ids))
    reminders = remind_deadlines(now=now)
    return {"requeued": len(ids), "reminders": reminders, "reclaimed": reclaimed}

