"""Reads behind the inbox and the staff delivery pages."""

from urllib.parse import urlsplit

from django.db.models import Count, Q, QuerySet

from cases.access.querysets import tied_to_visible_case_q
from notifications.models import Delivery, Notification


def inbox(user) -> QuerySet:
    return (Delivery.objects.filter(user=user, channel=Delivery.Channel.INBOX)
            .select_related("notification").order_by("-created_at"))


def unread_count(user) -> int:
    return Delivery.objects.filter(user=user, channel=Delivery.Channel.INBOX, read_at__isnull=True).count()


def external_deliveries(user) -> QuerySet:
    """Return the email and webhook deliveries the staff user may know: never one of a case hidden from them."""
    return Delivery.objects.exclude(channel=Delivery.Channel.INBOX).filter(
        tied_to_visible_case_q(user, "notification__case"))


def deliveries(user, *, status: str = "", channel: str = "") -> QuerySet:
    rows = external_deliveries(user).select_related("notification", "notification__case", "organization", "endpoint", "user")
    if status:
        rows = rows.filter(status=status)
    if channel:
        rows = rows.filter(channel=channel)
    return rows.order_by("-created_at")


def delivery_totals(user) -> dict:
    return external_deliveries(user).aggregate(**{status: Count("pk", filter=Q(status=status)) for status in Delivery.Status.values})


def case_delivery_receipts(case) -> list[dict]:
    """Return the receipt of every email and webhook send of the case's customer notices, in one query.

    Filled into ``cases.models.hooks`` for the staff case report. A webhook shows its URL's host
    only: the path of a receiver's URL may carry a token. The delivery id is the local part of
    the email's Message-ID and the webhook-id header, so a receiver's logs match it.
    """
    deliveries = (
        Delivery.objects.filter(notification__case=case, notification__kind__in=Notification.CUSTOMER_KINDS,
                                channel__in=Delivery.EXTERNAL_CHANNELS)
        .select_related("notification", "organization")
        .order_by("organization__name", "created_at", "pk")
    )
    return [
        {
            "organization": delivery.organization.name if delivery.organization_id else "",
            "channel": delivery.get_channel_display(),
            "recipient": _receipt_recipient(delivery),
            "kind": delivery.notification.get_kind_display(),
            "status": delivery.status,
            "status_label": delivery.get_status_display(),
            "delivered_at": delivery.delivered_at,
            "attempts": delivery.attempts,
            "message_id": str(delivery.pk),
        }
        for delivery in deliveries
    ]


def _receipt_recipient(delivery: Delivery) -> str:
    if delivery.channel == Delivery.Channel.WEBHOOK:
        return urlsplit(delivery.address).hostname or ""
    return delivery.address
