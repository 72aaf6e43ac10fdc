"""What a delivery says: the message context, the email and the webhook body.

A customer notice is built only from the case's customer-visible text and the recipient
organisation's own impact row, never another organisation's.

A batch of deliveries shares one ``Batch``: their notifications, organisations, users and
endpoints are read in one query each, the impact rows only for breach notices (no other template
shows one), and each email is rendered once per (notification, organisation) with a secret mark
where the delivery id goes, then copied per recipient with the mark replaced.
"""

import json
import secrets

from django.conf import settings
from django.urls import reverse

from django.contrib.auth import get_user_model

from cases.models import AffectedCustomer, Organization
from notifications.channels import email as email_channel
from notifications.models import Delivery, Notification, WebhookEndpoint
from notifications.services import outbox

Kind = Notification.Kind

EMAIL_TEMPLATES = {
    Kind.BREACH_NOTICE: "breach_notice",
    Kind.INCIDENT_UPDATE: "incident_update",
    Kind.REVIEW_PUBLISHED: "review_published",
}
WEBHOOK_TYPES = {
    Kind.BREACH_NOTICE: "incident.breach_notice",
    Kind.INCIDENT_UPDATE: "incident.update",
    Kind.REVIEW_PUBLISHED: "incident.review_published",
}
# Stands for the delivery id in an email rendered once for many recipients. Random per process, so
# no text a person wrote can contain it.
DELIVERY_ID_MARK = f"irt-delivery-{secrets.token_hex(12)}"


class Batch:
    """What the deliveries of one batch share, read once: related rows, impacts, rendered emails."""

    def __init__(self, deliveries: list[Delivery]):
        notification_ids = {d.notification_id for d in deliveries}
        notifications = Notification.objects.select_related("case", "incident_update", "published_review").in_bulk(notification_ids)
        organizations = Organization.objects.in_bulk({d.organization_id for d in deliveries} - {None})
        users = get_user_model().objects.in_bulk({d.user_id for d in deliveries} - {None})
        endpoints = WebhookEndpoint.objects.in_bulk({d.endpoint_id for d in deliveries} - {None})
        for d in deliveries:
            d.notification = notifications[d.notification_id]
            d.organization = organizations.get(d.organization_id)
            d.user = users.get(d.user_id)
            d.endpoint = endpoints.get(d.endpoint_id)
        # Only a breach notice shows an impact: the other kinds never read the row.
        wanted: dict = {}
        for d in deliveries:
            if d.notification.kind == Kind.BREACH_NOTICE and d.organization_id is not None:
                wanted.setdefault(d.notification.case_id, set()).add(d.organization_id)
        self.impacts = {
            (case_id, org_id): row for case_id, org_ids in wanted.items()
            for org_id, row in AffectedCustomer.objects.impacts_seen_by(case=case_id, organizations=org_ids).items()
        }
        self.rendered: dict = {}

    def impact(self, delivery: Delivery):
        return self.impacts.get((delivery.notification.case_id, delivery.organization_id))


def notice_signature(notification: Notification) -> dict | None:
    """Return the notice's Ed25519 signature block (cases/services/notice_signing.py), or None when it has none."""
    if not notification.signature:
        return None
    return {"algorithm": "Ed25519", "key": notification.signature_key, "statement": notification.signed_statement,
            "signature": notification.signature, "public_key_url": settings.IRT_SITE_URL + reverse("well_known:notice-signing-key")}


def customer_context(delivery: Delivery, *, batch: Batch | None = None, delivery_id: str | None = None) -> dict:
    """Return what a customer notice may show: the case's customer text and the recipient's own impact."""
    notification = delivery.notification
    case = notification.case
    impact = None
    if notification.kind == Kind.BREACH_NOTICE and delivery.organization_id is not None:
        impact = (batch.impact(delivery) if batch is not None
                  else AffectedCustomer.objects.impact_seen_by(case=case, organization=delivery.organization_id))
    return {
        "delivery_id": delivery_id or str(delivery.pk),
        "notification": notification,
        "kind": notification.kind,
        "reference": case.reference,
        "organization": delivery.organization,
        "update": notification.incident_update,
        "review": notification.published_review,
        "impact": impact,
        "incident_url": outbox.incident_url(case),
        "site_url": settings.IRT_SITE_URL,
        "signature": notice_signature(notification),
    }


def _email_parts(delivery: Delivery, batch: Batch | None, *, fill: bool = True) -> tuple[str, str, str]:
    """Return the rendered email of the delivery's notification for its organisation (rendered once per batch)."""
    notification = delivery.notification
    key = (notification.pk, delivery.organization_id)
    parts = batch.rendered.get(key) if batch is not None else None
    if parts is None:
        if notification.kind in EMAIL_TEMPLATES:
            name = EMAIL_TEMPLATES[notification.kind]
            context = customer_context(delivery, batch=batch, delivery_id=DELIVERY_ID_MARK)
        else:
            # A staff notice says the same to every recipient: only the notification is in it.
            name = "staff_notice"
            context = {"notification": notification, "site_url": settings.IRT_SITE_URL,
                       "url": settings.IRT_SITE_URL + notification.link if notification.link else ""}
        parts = email_channel.render_parts(name, context)
        if batch is not None:
            batch.rendered[key] = parts
    if not fill:
        return parts
    return tuple(part.replace(DELIVERY_ID_MARK, str(delivery.pk)) for part in parts)


def build_email(delivery: Delivery, *, connection=None, batch: Batch | None = None):
    """Return the email of one delivery (``batch``: reuse what the batch rendered for the same organisation).

    In a batch, the MIME bytes are made once per distinct text too and filled in per recipient
    (``email_channel.shared_mime``).
    """
    to_name = delivery.user.get_full_name() if delivery.user_id else ""
    shared = None
    if batch is not None:
        # Keyed by the text itself: organisations whose emails read the same (an update names none of
        # them) share one MIME rendering.
        parts = _email_parts(delivery, batch, fill=False)
        key = ("mime", parts)
        if key not in batch.rendered:
            batch.rendered[key] = email_channel.shared_mime(parts, mark=DELIVERY_ID_MARK,
                                                            headers={"X-IRT-Delivery-ID": DELIVERY_ID_MARK})
        shared = batch.rendered[key]
    return email_channel.message_from_parts(
        _email_parts(delivery, batch), to=delivery.address, to_name=to_name, message_id=str(delivery.pk),
        headers={"X-IRT-Delivery-ID": str(delivery.pk)}, connection=connection, shared=shared, mark=DELIVERY_ID_MARK,
    )


def webhook_payload(delivery: Delivery, *, batch: Batch | None = None) -> bytes:
    """Return the JSON body (schema in docs/notifications.md)."""
    context = customer_context(delivery, batch=batch)
    update, review, impact = context["update"], context["review"], context["impact"]
    data = {
        "delivery_id": context["delivery_id"],
        "incident": {"reference": context["reference"], "url": context["incident_url"]},
        "organization": delivery.organization.slug if delivery.organization_id else None,
    }
    if update is not None:
        data["update"] = {
            "status": update.status, "title": update.public_title, "what_happened": update.what_happened,
            "what_we_know": update.what_we_know, "what_we_are_doing": update.what_we_are_doing,
            "what_you_should_do": update.what_you_should_do, "affected_services": update.affected_services,
            "published_at": update.published_at.isoformat() if update.published_at else None,
        }
    if review is not None:
        data["review"] = {"title": review.title, "url": settings.IRT_SITE_URL + review.get_absolute_url()
                          if review.is_public else context["incident_url"]}
    if impact is not None and delivery.notification.kind == Kind.BREACH_NOTICE:
        data["impact"] = {"data_lost": impact.data_lost, "data_altered": impact.data_altered,
                          "data_disclosed": impact.data_disclosed, "statement": impact.impact_statement}
    signature = notice_signature(delivery.notification)
    if signature is not None:
        data["signature"] = signature
    body = {"type": WEBHOOK_TYPES[delivery.notification.kind], "timestamp": delivery.notification.created_at.isoformat(),
            "data": data}
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
