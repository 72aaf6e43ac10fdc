"""The follow-up email choice on a customer's incident page, rendered from its own selector so the portal view stays as it is."""

from django import template

from cases.access.permissions import is_customer_admin
from notifications import selectors

register = template.Library()


@register.inclusion_tag("notifications/partials/incident_subscription.html", takes_context=True)
def incident_subscription(context, case_id, reference):
    """Show the reader's (and, for administrators, the organisation's) choice for this incident's follow-up emails.

    The portal view looked the incident up through its access helper; ``case_id`` is that incident's.
    """
    user = context["request"].user
    return {"row": selectors.incident_subscription(user, case_id=case_id, reference=reference),
            "is_admin": is_customer_admin(user), "request": context["request"], "csrf_token": context.get("csrf_token")}
