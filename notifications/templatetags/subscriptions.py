"""The follow-up email choice on a customer's incident page, rendered from its own selector so the portal view stays as it is."""

import functools

from django import template
from django.template.loader import render_to_string
from django.utils.crypto import salted_hmac
from django.utils.safestring import mark_safe

from cases.access.permissions import is_customer_admin
from notifications import selectors

register = template.Library()

INCIDENT_SUBSCRIPTION_TEMPLATE = "notifications/partials/incident_subscription.html"


@register.simple_tag(takes_context=True)
def incident_subscription(context, case_id, reference):
    """Show the reader's (and, for administrators, the organisation's) choice for this incident's follow-up emails.

    The portal view looked the incident up through its access helper; ``case_id`` is that incident's.
    The form is rendered once per process for each set of values it shows (``_rendered``: the reader,
    their organisation, the choices), and this request's CSRF token is put in.
    """
    user = context["request"].user
    row = selectors.incident_subscription(user, case_id=case_id, reference=reference)
    shown = {"row": row, "is_admin": is_customer_admin(user), "organization_name": user.organization.name}
    csrf_token = context.get("csrf_token")
    if not csrf_token or csrf_token == "NOTPROVIDED":
        return render_to_string(INCIDENT_SUBSCRIPTION_TEMPLATE, {**shown, "csrf_token": csrf_token})
    html = _rendered(user.pk, user.organization_id, shown["organization_name"], shown["is_admin"], tuple(sorted(row.items())))
    return mark_safe(html.replace(_csrf_marker(), str(csrf_token)))  # noqa: S308 - our own template; the token is letters and digits


@functools.cache
def _csrf_marker() -> str:
    # From SECRET_KEY, so a reader cannot type it into anything the form shows (a reference, a label).
    return "irt-subscription-csrf-" + salted_hmac("notifications.subscriptions.csrf", "marker").hexdigest()[:20]


@functools.lru_cache(maxsize=4096)
def _rendered(user_id, organization_id, organization_name, is_admin, row) -> str:
    # Only what the arguments name reaches the HTML, so a rendering stays right while they stay the same; the
    # reader and the organisation are among them, so one reader's rendering is never another's.
    return render_to_string(INCIDENT_SUBSCRIPTION_TEMPLATE, {
        "row": dict(row), "is_admin": is_admin, "organization_name": organization_name, "csrf_token": _csrf_marker(),
    })
