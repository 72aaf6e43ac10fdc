"""Webhook endpoints: create, rotate and disable (staff and customer administrators); the secret is shown once.

A rotation keeps the replaced secret in ``previous_secret`` and signs with both for
``IRT_WEBHOOK_SECRET_OVERLAP_HOURS`` after ``secret_rotated_at`` (24 h by default), as Standard
Webhooks allows, so a receiver can switch to the new secret at its own pace.
"""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from cases.services import customer_admin
from notifications.channels import webhook
from notifications.models import Delivery, WebhookEndpoint


def current_secret(endpoint: WebhookEndpoint) -> str:
    """Return the secret receivers should verify with from now on."""
    return endpoint.secret


def signing_secrets(endpoint: WebhookEndpoint, *, now=None) -> list[str]:
    """Return the secrets to sign with: the current one, and the previous one during the overlap."""
    now = now or timezone.now()
    overlap = timedelta(hours=settings.IRT_WEBHOOK_SECRET_OVERLAP_HOURS)
    if endpoint.previous_secret and endpoint.secret_rotated_at and now < endpoint.secret_rotated_at + overlap:
        return [endpoint.secret, endpoint.previous_secret]
    return [endpoint.secret]


@transaction.atomic
def create_endpoint(*, organization, url: str, description: str = "") -> tuple[WebhookEndpoint, str]:
    """Create an endpoint; return it with its secret, which the caller shows once."""
    endpoint = WebhookEndpoint(organization=organization, url=url, description=description)
    return endpoint, save_endpoint(endpoint=endpoint)


@transaction.atomic
def save_endpoint(*, endpoint: WebhookEndpoint) -> str | None:
    """Check the URL and save the endpoint; return the signing secret of a new one (shown once), else None.

    Raise ``WebhookRefused`` for a URL the guard refuses; nothing is saved then.
    """
    webhook.check_url(endpoint.url)
    secret = None
    if endpoint._state.adding:
        secret = endpoint.secret = webhook.new_secret()
    endpoint.save()
    return secret


@transaction.atomic
def rotate_secret(*, endpoint: WebhookEndpoint) -> str:
    """Replace the signing secret, keeping the old one for the overlap; return the new one (shown once)."""
    locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    # With no overlap the replaced secret is not kept at all: nothing would ever sign with it.
    locked.previous_secret = locked.secret if settings.IRT_WEBHOOK_SECRET_OVERLAP_HOURS else ""
    locked.secret = webhook.new_secret()
    locked.secret_rotated_at = timezone.now()
    locked.save(update_fields=["secret", "previous_secret", "secret_rotated_at"])
    endpoint.secret, endpoint.previous_secret = locked.secret, locked.previous_secret
    endpoint.secret_rotated_at = locked.secret_rotated_at
    return locked.secret


# -- a customer administrator's own endpoints (cases/services/customer_admin.py records each change) --

# How many recent deliveries an administrator sees per endpoint.
RECENT_DELIVERIES = 50


def organization_endpoints(organization):
    return WebhookEndpoint.objects.filter(organization=organization).order_by("-is_active", "url")


def endpoint_deliveries(endpoint: WebhookEndpoint):
    """Return the endpoint's recent deliveries, newest first, with their notice."""
    return (Delivery.objects.filter(endpoint=endpoint).select_related("notification", "notification__case")
            .order_by("-created_at")[:RECENT_DELIVERIES])


@transaction.atomic
def add_customer_endpoint(*, by, url: str, description: str = "", request=None) -> tuple[WebhookEndpoint, str]:
    """Create an endpoint for the administrator's organisation; return it with its secret (shown once)."""
    organization = customer_admin.administered_organization(by)
    endpoint, secret = create_endpoint(organization=organization, url=url, description=description)
    customer_admin.record_change(by=by, request=request, what=f"added webhook endpoint {endpoint.pk} ({url})")
    return endpoint, secret


def check_own_endpoint(by, endpoint: WebhookEndpoint) -> None:
    """Refuse a customer administrator an endpoint of another organisation."""
    if endpoint.organization_id != customer_admin.administered_organization(by).pk:
        raise PermissionDenied("That endpoint is not your organisation's.")


@transaction.atomic
def rotate_customer_secret(*, by, endpoint: WebhookEndpoint, request=None) -> str:
    """Rotate the secret (the old one still signs during the overlap); return the new one, shown once."""
    check_own_endpoint(by, endpoint)
    secret = rotate_secret(endpoint=endpoint)
    customer_admin.record_change(by=by, request=request,
                                 what=f"rotated the secret of webhook endpoint {endpoint.pk} ({endpoint.url})")
    return secret


@transaction.atomic
def disable_customer_endpoint(*, by, endpoint: WebhookEndpoint, request=None) -> None:
    """Stop sending to the endpoint; its pending deliveries end dead on their next attempt, visible to staff."""
    check_own_endpoint(by, endpoint)
    reason = f"Disabled by {by.get_username()} on {timezone.now():%Y-%m-%d %H:%M} UTC."
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=False, disabled_reason=reason)
    endpoint.is_active, endpoint.disabled_reason = False, reason
    customer_admin.record_change(by=by, request=request, what=f"disabled webhook endpoint {endpoint.pk} ({endpoint.url})")

