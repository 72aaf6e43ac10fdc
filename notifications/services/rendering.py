"""What a delivery says: the message context, the email and the webhook body.

A customer notice is built only from the case's customer-visible text and the recipient
organisation's own impact row, never another organisation's.
"""

import json

from django.conf import settings
from django.urls import reverse

from cases.models import AffectedCustomer
from notifications.channels import email as email_channel
from notifications.models import Delivery, Notification
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


def notice_signature(notification: Notification) -> dict | None:
    """Return the notice's Ed25519 signature block (cases/services/notice_signing.py), or None when it has none."""
    if not notification.signature:
        return None
    return {"algorithm": "Ed25519", "key": notification.signature_key, "statement": notification.signed_statement,
            "signature": notification.signature, "public_key_url": settings.IRT_SITE_URL + reverse("well_known:notice-signing-key")}


def customer_context(delivery: Delivery) -> dict:
    """Return what a customer notice may show: the case's customer text and the recipient's own impact."""
    notification = delivery.notification
    case = notification.case
    impact = None
    if delivery.organization_id is not None:
        impact = AffectedCustomer.objects.impact_seen_by(case=case, organization=delivery.organization_id)
    return {
        "delivery_id": str(delivery.pk),
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


def build_email(delivery: Delivery, *, connection=None):
    notification = delivery.notification
    if notification.kind in EMAIL_TEMPLATES:
        name, context = EMAIL_TEMPLATES[notification.kind], customer_context(delivery)
    else:
        name = "staff_notice"
        context = {"notification": notification, "url": settings.IRT_SITE_URL + notification.link if notification.link else "",
                   "site_url": settings.IRT_SITE_URL}
    to_name = delivery.user.get_full_name() if delivery.user_id else ""
    return email_channel.make_message(
        name, to=delivery.address, to_name=to_name, context=context, message_id=str(delivery.pk),
        headers={"X-IRT-Delivery-ID": str(delivery.pk)}, connection=connection,
    )


def webhook_payload(delivery: Delivery) -> bytes:
    """Return the JSON body (schema in docs/notifications.md)."""
    context = customer_context(delivery)
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
