"""Writing notifications and their deliveries, inside the transaction of the event (outbox).

Every function here runs in the caller's transaction and queues delivery tasks with
``transaction.on_commit``, so nothing is sent for a change that rolled back and nothing is lost
for a change that committed (the sweeper queues any delivery whose task went missing).
"""

import logging
from datetime import UTC, datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from cases.access.permissions import can_view_case, is_customer
from cases.services import notice_signing
from notifications.channels.email import one_line
from notifications.models import Delivery, Notification, Preference, WebhookEndpoint
from notifications.services import inbox, queue, subscriptions

logger = logging.getLogger(__name__)

# Up to this many external deliveries are queued on commit (the emails as one batch task, each
# webhook on its own); more are fanned out by one task in the worker, so the request that caused
# them stays a bounded number of queries.
FAN_OUT_ABOVE = 50

Kind = Notification.Kind
Channel = Delivery.Channel


def incident_path(case) -> str:
    return reverse("portal:incident", args=[case.reference])


def incident_url(case) -> str:
    return settings.IRT_SITE_URL + incident_path(case)


def clean_address(address: str) -> str | None:
    """Return the address if it is one plain email address, else None (never a header fragment)."""
    address = (address or "").strip()
    if not address or any(ch in address for ch in "\r\n,;<>\"") or len(address) > 254:
        return None
    try:
        validate_email(address)
    except ValidationError:
        return None
    return address


def create_notification(*, kind: str, title: str, deliveries: list[Delivery], case=None, body: str = "", link: str = "",
                        incident_update=None, published_review=None, dedupe_key: str | None = None) -> Notification:
    """Write one notification and its deliveries; queue the external ones when the transaction commits."""
    now = timezone.now()
    signed = _signed(kind=kind, case=case, update=incident_update, now=now)
    notification = Notification.objects.create(
        kind=kind, case=case, incident_update=incident_update, published_review=published_review,
        title=one_line(title)[:300], body=body, link=link, dedupe_key=dedupe_key, created_at=now,
        signed_statement=signed.statement if signed else "", signature=signed.signature if signed else "",
        signature_key=signed.key if signed else "",
    )
    for delivery in deliveries:
        delivery.notification = notification
        delivery.created_at = now
        delivery.next_attempt_at = now
        if delivery.channel == Channel.INBOX:
            # The row is the inbox entry: written is delivered.
            delivery.status = Delivery.Status.DELIVERED
            delivery.delivered_at = now
        else:
            delivery.enqueued_at = now
    Delivery.objects.bulk_create(deliveries)
    inbox.forget_unread_counts(d.user_id for d in deliveries if d.channel == Channel.INBOX)
    emails = [d.pk for d in deliveries if d.channel == Channel.EMAIL]
    hooks = [d.pk for d in deliveries if d.channel == Channel.WEBHOOK]
    if len(emails) + len(hooks) > FAN_OUT_ABOVE:
        transaction.on_commit(lambda: queue.enqueue_fan_out(notification.pk))
    elif emails or hooks:
        transaction.on_commit(lambda: (queue.enqueue_deliveries(emails), queue.enqueue_deliveries(hooks)))
    return notification


def _signed(*, kind: str, case, update, now) -> notice_signing.SignedNotice | None:
    """Sign a customer notice that carries an update, over the case's timeline head in this transaction."""
    if kind not in Notification.CUSTOMER_KINDS or case is None or update is None:
        return None
    # The senders hold the locked case whose event was just appended, so its head is the committed one.
    return notice_signing.sign_notice(kind=kind, case=case, update=update, issued_at=now, head=case.timeline_head)


# -- customers ---------------------------------------------------------------------------

def _customer_users(org_ids) -> dict[int, list]:
    by_org: dict[int, list] = {}
    for user in get_user_model().objects.filter(organization_id__in=org_ids, is_active=True).order_by("pk"):
        by_org.setdefault(user.organization_id, []).append(user)
    return by_org


def _endpoints(org_ids) -> dict[int, list]:
    by_org: dict[int, list] = {}
    for endpoint in WebhookEndpoint.objects.filter(organization_id__in=org_ids, is_active=True).order_by("pk"):
        by_org.setdefault(endpoint.organization_id, []).append(endpoint)
    return by_org


def _subscribed_user_ids(user_ids, field: str) -> set[int]:
    return set(Preference.objects.filter(user_id__in=user_ids, **{field: True}).values_list("user_id", flat=True))


def _opted_out_user_ids(user_ids, field: str) -> set[int]:
    return set(Preference.objects.filter(user_id__in=user_ids, **{field: False}).values_list("user_id", flat=True))


def _customer_deliveries(rows, *, mandatory: bool, subscription_field: str = "", breach_default_field: str = "") -> list[Delivery]:
    """Build deliveries for affected rows: email to contacts, webhooks, and every user's inbox.

    ``mandatory`` (the breach notice) falls back to the organisation's users when it has no
    security contact; otherwise users are emailed when they subscribed, or, with
    ``breach_default_field``, when the row is a breach and they did not turn that preference off.
    A subscription to the incident or one of its services, made by the user or their organisation,
    comes first (``notifications.services.subscriptions``); the breach notice ignores subscriptions.
    """
    org_ids = [row.organization_id for row in rows]
    users = _customer_users(org_ids)
    endpoints = _endpoints(org_ids)
    user_ids = [u.pk for group in users.values() for u in group]
    subscribed = _subscribed_user_ids(user_ids, subscription_field) if subscription_field else set()
    opted_out = _opted_out_user_ids(user_ids, breach_default_field) if breach_default_field else set()
    # Breach notices are a legal duty: no subscription choice silences them.
    choices = subscriptions.choices_for(rows[0].case_id, org_ids) if rows and not mandatory else subscriptions.Choices()
    deliveries = []
    for row in rows:
        org = row.organization
        org_users = users.get(org.pk, [])
        contacts = [a for a in map(clean_address, org.security_contact_emails()) if a]
        if mandatory and not contacts:
            contacts = [a for a in (clean_address(u.email) for u in org_users) if a]
        if choices.for_organization(org.pk) is False:
            contacts = []
        by_default = bool(breach_default_field) and row.is_breach
        contacts += [a for a in (clean_address(u.email) for u in org_users
                                 if choices.decide(u, default=u.pk in subscribed or (by_default and u.pk not in opted_out))) if a]
        external = [Delivery(channel=Channel.EMAIL, organization_id=org.pk, address=address)
                    for address in dict.fromkeys(a.lower() for a in contacts)]
        external += [Delivery(channel=Channel.WEBHOOK, organization_id=org.pk, endpoint=endpoint, address=endpoint.url)
                     for endpoint in endpoints.get(org.pk, [])]
        deliveries += external
        deliveries += [Delivery(channel=Channel.INBOX, organization_id=org.pk, user=user) for user in org_users]
        if mandatory and not external:
            logger.warning("No address to send the breach notice of %s to %s", row.case_id, org)
    return deliveries


def notify_breach(*, case, update) -> Notification | None:
    """Give every breach organisation that has none yet its breach notice. Return it, or None."""
    if not case.breach_declared_at or update is None:
        return None
    rows = list(case.affected_customers.confirmed().breached().select_related("organization"))
    already = set(
        Delivery.objects.filter(notification__case=case, notification__kind=Kind.BREACH_NOTICE)
        .values_list("organization_id", flat=True).distinct()
    )
    rows = [row for row in rows if row.organization_id not in already]
    if not rows:
        return None
    return create_notification(
        kind=Kind.BREACH_NOTICE, case=case, incident_update=update,
        title=f"Security notice: your data was affected ({case.reference})",
        body="Read what happened, what it means for your data and what you should do.",
        link=incident_path(case), deliveries=_customer_deliveries(rows, mandatory=True),
    )


def notify_update(*, case, update) -> list[Notification]:
    """Tell affected organisations about a published update (as their breach notice when it is the first)."""
    created = []
    breach = notify_breach(case=case, update=update)
    if breach is not None:
        created.append(breach)
    noticed = set(breach.deliveries.values_list("organization_id", flat=True)) if breach else set()
    rows = [row for row in case.affected_customers.confirmed().select_related("organization") if row.organization_id not in noticed]
    if rows:
        created.append(create_notification(
            kind=Kind.INCIDENT_UPDATE, case=case, incident_update=update,
            title=f"Incident update: {update.public_title} ({case.reference})", body=update.get_status_display(),
            link=incident_path(case), deliveries=_customer_deliveries(rows, mandatory=False, subscription_field="email_incident_updates",
                                                                          breach_default_field="email_updates_of_breaches"),
        ))
    return created


def notify_review(*, case, review) -> Notification | None:
    rows = list(case.affected_customers.confirmed().select_related("organization"))
    if not rows:
        return None
    return create_notification(
        kind=Kind.REVIEW_PUBLISHED, case=case, published_review=review,
        title=f"Post-incident review: {review.title} ({case.reference})",
        link=incident_path(case), deliveries=_customer_deliveries(rows, mandatory=False, subscription_field="email_reviews"),
    )


# -- staff -------------------------------------------------------------------------------

def users_with_permission(codename: str):
    """Return active staff users holding ``cases.<codename>`` (by group, directly, or as superuser)."""
    return get_user_model().objects.with_case_permission(codename)


def notify_staff(*, kind: str, users, title: str, body: str = "", case=None, link: str = "",
                 dedupe_key: str | None = None) -> Notification | None:
    """Tell staff users by inbox and email; users who may not see the case are left out."""
    recipients = {}
    for user in users:
        if user is None or not user.is_active or is_customer(user):
            continue
        if case is not None and not can_view_case(user, case):
            continue
        recipients[user.pk] = user
    if not recipients:
        return None
    deliveries = []
    for user in recipients.values():
        deliveries.append(Delivery(channel=Channel.INBOX, user=user))
        address = clean_address(user.email)
        if address:
            deliveries.append(Delivery(channel=Channel.EMAIL, user=user, address=address))
    return create_notification(kind=kind, case=case, title=title, body=body, link=link or (case.get_absolute_url() if case else ""),
                               dedupe_key=dedupe_key, deliveries=deliveries)


def _dead_line(delivery: Delivery) -> str:
    return (f"{delivery.notification.get_kind_display()} by {delivery.get_channel_display().lower()} to "
            f"{delivery.recipient_label}")


def notify_dead_delivery(delivery: Delivery, *, now=None) -> Notification | None:
    """Tell the admins a delivery is dead, one notice per outage window; never about a dead-delivery notice.

    An outage kills many deliveries within minutes (63 for one 20-organisation outage); a notice
    each would bury the one that matters. The first death in a window of
    ``IRT_NOTIFY_DEAD_DIGEST_MINUTES`` writes the notice; later ones in the window are added to
    its title and body (its email, sent a moment later, usually carries them all).
    """
    if delivery.notification.kind == Kind.DELIVERY_DEAD:
        return None
    now = now or timezone.now()
    window = int(now.timestamp()) // (settings.IRT_NOTIFY_DEAD_DIGEST_MINUTES * 60) * settings.IRT_NOTIFY_DEAD_DIGEST_MINUTES * 60
    key = f"delivery_dead:{window}"
    line = f"{_dead_line(delivery)}: {one_line(delivery.last_error)[:300]}"
    existing = Notification.objects.select_for_update().filter(dedupe_key=key, kind=Kind.DELIVERY_DEAD).first()
    if existing is None:
        admins = get_user_model().objects.filter(is_superuser=True, is_active=True, organization__isnull=True)
        try:
            with transaction.atomic():
                return notify_staff(kind=Kind.DELIVERY_DEAD, users=admins, title=f"Delivery failed: {_dead_line(delivery)}",
                                    body=line, link=reverse("notifications:delivery", args=[delivery.pk]), dedupe_key=key)
        except IntegrityError:
            # Another worker wrote this window's notice a moment ago: join it.
            existing = Notification.objects.select_for_update().get(dedupe_key=key)
    count = existing.body.count("\n") + 2
    started = datetime.fromtimestamp(window, tz=UTC)
    Notification.objects.filter(pk=existing.pk).update(
        title=one_line(f"{count} deliveries failed since {started:%H:%M} UTC, the latest: {_dead_line(delivery)}")[:300],
        body=f"{existing.body}\n{line}"[:20000], link=reverse("notifications:deliveries") + "?status=dead",
    )
    return existing
