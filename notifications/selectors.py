"""Reads behind the inbox and the staff delivery pages."""

import uuid
from urllib.parse import urlsplit

from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, OuterRef, Q, QuerySet, Subquery
from django.urls import reverse

from cases.access.permissions import can_see_deliveries
from cases.access.prepared import PreparedQuery
from cases.access.querysets import customer_incidents, staff_role, tied_to_visible_case_q
from cases.models import Acknowledgement, Case, IncidentUpdate, Service
from cases.selectors import dashboard as dashboard_selectors
from notifications.models import Delivery, Notification, Subscription, subscription_choices


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


def deliveries(user, *, status: str = "", channel: str = "", case=None) -> QuerySet:
    """Return the deliveries the staff user may know, newest first; ``case`` narrows them to one case's sends."""
    rows = external_deliveries(user).select_related("notification", "notification__case", "organization", "endpoint", "user")
    if case is not None:
        rows = rows.filter(notification__case=case)
    if status:
        rows = rows.filter(status=status)
    if channel:
        rows = rows.filter(channel=channel)
    return rows.order_by("-created_at")


def delivery_totals(user) -> dict:
    return external_deliveries(user).aggregate(**{status: Count("pk", filter=Q(status=status)) for status in Delivery.Status.values})


def _dead_delivery_rows(user, *, limit: int) -> QuerySet:
    """Return the newest dead email and webhook deliveries of cases the staff user may know, as the dashboard shows them."""
    return deliveries(user, status=Delivery.Status.DEAD).values_list(
        "pk", "notification__title", "notification__case__reference", "channel", "address", "last_error", "created_at")[:limit]


def dashboard_dead_deliveries(user, limit: int) -> list[dict]:
    """Return the newest dead email and webhook deliveries for the staff dashboard (``cases.models.hooks``).

    Only those who may open the delivery pages (managers, admins) get rows, and only of cases they may know.
    The query is compiled once per process, role and ``limit``, as the dashboard's own are
    (``cases.selectors.dashboard.role_query``), and run with the viewer's id (issue 18).
    """
    if not can_see_deliveries(user):
        return []
    query = dashboard_selectors.role_query(
        ("notifications.dead_deliveries", limit), staff_role(user),
        lambda viewer: _dead_delivery_rows(viewer, limit=limit))
    rows = query.rows(user_id=user.pk)
    if not rows:
        return []
    # One ``reverse`` for the page, not one per row: every delivery's address differs only in its id.
    url = reverse("notifications:delivery", args=[_URL_ID])
    return [
        {
            "title": title,
            "recipient": _recipient(channel, address),
            "case": reference or "",
            "error": error,
            "at": created_at,
            "url": url.replace(str(_URL_ID), str(pk)),
        }
        for pk, title, reference, channel, address, error, created_at in rows
    ]


# Stands for a delivery's id in the one reversed address of the dashboard's rows.
_URL_ID = uuid.UUID("00000000-0000-4000-8000-0000000d3ad0")


def _case_receipt_rows(case_id):
    return (
        Delivery.objects.filter(notification__case_id=case_id, notification__kind__in=Notification.CUSTOMER_KINDS,
                                channel__in=Delivery.EXTERNAL_CHANNELS)
        .order_by("organization__name", "created_at", "pk")
        .values_list("pk", "organization__name", "channel", "address", "notification__kind", "status", "delivered_at",
                     "attempts")
    )


# Compiled once per process: the case page reads the receipts on every request, kept or not (issue 18).
_CASE_RECEIPTS = PreparedQuery(_case_receipt_rows, placeholders={"case_id": -790_001}, others={"case_id": -790_002})
_CHANNEL_LABELS = dict(Delivery.Channel.choices)
_STATUS_LABELS = dict(Delivery.Status.choices)
_KIND_LABELS = dict(Notification.Kind.choices)


def case_delivery_receipts(case) -> list[dict]:
    """Return the receipt of every email and webhook send of the case's customer notices, in one query.

    Filled into ``cases.models.hooks`` for the staff case report and the case page. A webhook shows
    its URL's host only: the path of a receiver's URL may carry a token. The delivery id is the local
    part of the email's Message-ID and the webhook-id header, so a receiver's logs match it.
    """
    return [
        {
            "organization": organization or "",
            "channel": _CHANNEL_LABELS.get(channel, channel),
            "recipient": _recipient(channel, address),
            "kind": _KIND_LABELS.get(kind, kind),
            "status": status,
            "status_label": _STATUS_LABELS.get(status, status),
            "delivered_at": delivered_at,
            "attempts": attempts,
            "message_id": str(pk),
        }
        for pk, organization, channel, address, kind, status, delivered_at, attempts in _CASE_RECEIPTS.rows(case_id=case.pk)
    ]


def _recipient(channel: str, address: str) -> str:
    if channel == Delivery.Channel.WEBHOOK:
        return urlsplit(address).hostname or ""
    return address


def notice_progress_context(case, user) -> dict:
    """Return what the progress fragment shows ``user`` (the case page's tag and its refresh view alike)."""
    progress = notice_progress(case)
    return {"case": case, "progress": progress, "pending": any(row[Delivery.Status.PENDING] for row in progress),
            "viewer_sees_deliveries": can_see_deliveries(user)}


def notice_progress(case) -> list[dict]:
    """Return the fan-out of the case's breach notices per channel (delivered, pending, dead, total), in one query.

    For the breach page while a large fan-out runs: counts only, never a row per organisation.
    """
    counts = (Delivery.objects.filter(notification__case=case, notification__kind=Notification.Kind.BREACH_NOTICE,
                                      channel__in=Delivery.EXTERNAL_CHANNELS)
              .order_by().values_list("channel", "status").annotate(n=Count("pk")))
    rows = {channel: {"channel": channel, "label": Delivery.Channel(channel).label,
                      **{status: 0 for status in Delivery.Status.values}} for channel in Delivery.EXTERNAL_CHANNELS}
    for channel, status, n in counts:
        rows[channel][status] = n
    progress = []
    for row in rows.values():
        row["total"] = sum(row[status] for status in Delivery.Status.values)
        if row["total"]:
            row["done_percent"] = (row[Delivery.Status.DELIVERED] + row[Delivery.Status.DEAD]) * 100 // row["total"]
            progress.append(row)
    return progress


def _choices(user, **target) -> tuple[dict, dict]:
    """Return the reader's own and their organisation's choices, by ``(kind, pk)``: one query."""
    own, organization = {}, {}
    rows = Subscription.objects.filter(Q(user=user) | Q(user__isnull=True), organization=user.organization_id, **target)
    for row in rows.only("user_id", "case_id", "service_id", "receive"):
        key = ("incident", row.case_id) if row.case_id else ("service", row.service_id)
        (own if row.user_id else organization)[key] = row.receive
    return own, organization


def _entry(own, organization, kind, pk, value, label) -> dict:
    return {"kind": kind, "value": value, "label": label,
            "mine": own.get((kind, pk)), "organization": organization.get((kind, pk))}


def subscriptions(user) -> dict:
    """Return the reader's incidents and the services with their own and their organisation's choices.

    Incidents are named by reference and their latest published title, never the internal case title.
    Three queries whatever the number of incidents.
    """
    own, organization = _choices(user)
    latest_title = IncidentUpdate.objects.published().filter(case=OuterRef("pk")).order_by("-published_at", "-id").values("public_title")[:1]
    incidents = customer_incidents(user).annotate(latest_title=Subquery(latest_title)).order_by("-pk").only("pk", "reference")
    return {
        "incidents": [_entry(own, organization, "incident", c.pk, c.reference, f"{c.reference} · {c.latest_title or ''}")
                      for c in incidents],
        "services": [_entry(own, organization, "service", s.pk, s.pk, s.name) for s in Service.objects.all()],
    }


def incident_subscription(user, *, case_id: int, reference: str) -> dict:
    """Return the reader's and their organisation's choice for one incident the caller already looked up.

    Every incident page shows it, so all of the reader's and their organisation's choices are kept
    in the cache (one query when they are not).
    """
    own, organization = subscription_choices.get(f"{user.organization_id}:{user.pk}", lambda: _choices(user))
    return _entry(own, organization, "incident", case_id, reference, f"Incident {reference}")
