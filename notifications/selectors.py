"""Reads behind the inbox and the staff delivery pages."""

from django.db.models import Count, Q, QuerySet

from cases.access.querysets import tied_to_visible_case_q
from notifications.models import Delivery


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
