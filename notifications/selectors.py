"""Reads behind the inbox and the staff delivery pages."""

from urllib.parse import urlsplit

from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, OuterRef, Q, QuerySet
from django.urls import reverse

from cases.access.permissions import can_see_deliveries
from cases.access.querysets import tied_to_visible_case_q
from cases.models import Acknowledgement, Case, IncidentUpdate
from notifications.models import Delivery, Notification


def settled() -> Q:
    """An inbox item whose subject is done, so it needs nobody's attention any more.

    Its case is closed or dismissed; or it asked for an approval and no draft of its case older
    than the request still waits; or it told a customer about an incident they have acknowledged.
    Read from what a notification already stores (case, kind, time), so nothing has to be written
    when the subject changes.
    """
    case_over = Q(notification__case__status__in=Case.FINISHED)
    waiting_drafts = IncidentUpdate.objects.drafts().filter(
        case=OuterRef("notification__case"), created_at__lte=OuterRef("notification__created_at"))
    approved = Q(notification__kind=Notification.Kind.APPROVAL_REQUESTED) & ~Q(Exists(waiting_drafts))
    acknowledged = Q(notification__kind__in=Notification.CUSTOMER_KINDS) & Q(Exists(
        Acknowledgement.objects.filter(case=OuterRef("notification__case"), user=OuterRef("user"))))
    return Q(notification__case__isnull=False) & (case_over | approved | acknowledged)


def inbox(user) -> QuerySet:
    """Return the user's inbox, newest first, each item with ``is_settled`` (its subject is done)."""
    return (Delivery.objects.filter(user=user, channel=Delivery.Channel.INBOX)
            .annotate(is_settled=ExpressionWrapper(settled(), output_field=BooleanField()))
            .select_related("notification").order_by("-created_at"))


def unread_count(user) -> int:
    """Count the unread items that still need attention (a settled item no longer counts)."""
    return (Delivery.objects.filter(user=user, channel=Delivery.Channel.INBOX, read_at__isnull=True)
            .exclude(settled()).count())


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


def dashboard_dead_deliveries(user, limit: int) -> list[dict]:
    """Return the newest dead email and webhook deliveries for the staff dashboard (``cases.models.hooks``).

    Only those who may open the delivery pages (managers, admins) get rows, and only of cases they may know.
    """
    if not can_see_deliveries(user):
        return []
    rows = deliveries(user, status=Delivery.Status.DEAD)[:limit]
    return [
        {
            "title": delivery.notification.title,
            "recipient": _receipt_recipient(delivery),
            "case": delivery.notification.case.reference if delivery.notification.case_id else "",
            "error": delivery.last_error,
            "at": delivery.created_at,
            "url": reverse("notifications:delivery", args=[delivery.pk]),
        }
        for delivery in rows
    ]


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
