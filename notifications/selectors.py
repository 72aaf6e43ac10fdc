"""Reads behind the inbox and the staff delivery pages."""

from django.db.models import Count, Q, QuerySet

from notifications.models import Delivery


def inbox(user) -> QuerySet:
    return (Delivery.objects.filter(user=user, channel=Delivery.Channel.INBOX)
            .select_related("notification").order_by("-created_at"))


def unread_count(user) -> int:
    return Delivery.objects.filter(user=user, channel=Delivery.Channel.INBOX, read_at__isnull=True).count()


def deliveries(*, status: str = "", channel: str = "") -> QuerySet:
    rows = Delivery.objects.exclude(channel=Delivery.Channel.INBOX).select_related(
        "notification", "notification__case", "organization", "endpoint", "user")
    if status:
        rows = rows.filter(status=status)
    if channel:
        rows = rows.filter(channel=channel)
    return rows.order_by("-created_at")


def delivery_totals() -> dict:
    external = Delivery.objects.exclude(channel=Delivery.Channel.INBOX)
    return external.aggregate(**{status: Count("pk", filter=Q(status=status)) for status in Delivery.Status.values})
