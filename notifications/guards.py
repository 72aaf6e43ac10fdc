"""The answers ``notifications`` gives to the case lifecycle's questions."""

from cases.models import Blocker
from notifications.models import Delivery


def unnotified_customer_blockers(case) -> list[Blocker]:
    """Block closing while any organisation in a declared breach has not received its notice.

    A notice counts when it was delivered or an out-of-band notice was approved (both stamp
    ``notified_at``); breach rows still awaiting confirmation must be confirmed or withdrawn.
    """
    if not case.breach_declared_at:
        return []
    reasons = []
    unconfirmed = [row.organization.name for row in case.affected_customers.awaiting_confirmation().breached().select_related("organization")]
    if unconfirmed:
        reasons.append(Blocker(
            "customers_unconfirmed", f"Confirm or withdraw the affected customers awaiting confirmation: {', '.join(unconfirmed)}."
        ))
    waiting = [row.organization.name for row in case.affected_customers.awaiting_notice().select_related("organization")]
    if waiting:
        reasons.append(Blocker("notice_undelivered", f"Breach notice not yet delivered to {', '.join(waiting)}."))
    return reasons


def delivered_to_organization(row, since) -> list[dict]:
    """Return the customer notices of the row's case delivered to its organisation since ``since``."""
    deliveries = (
        Delivery.objects.filter(
            notification__case_id=row.case_id, organization_id=row.organization_id,
            status=Delivery.Status.DELIVERED, delivered_at__gte=since,
        )
        .select_related("notification", "user", "endpoint")
        .order_by("delivered_at")
    )
    return [
        {"who": delivery.recipient_label,
         "what": f"received the {delivery.notification.get_kind_display().lower()} by {delivery.get_channel_display().lower()}",
         "at": delivery.delivered_at}
        for delivery in deliveries
    ]
