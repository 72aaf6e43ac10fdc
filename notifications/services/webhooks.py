"""Webhook endpoints: create and rotate; the secret is returned once and never shown again.

A rotation keeps the replaced secret in ``previous_secret`` and signs with both for
``IRT_WEBHOOK_SECRET_OVERLAP_HOURS`` after ``secret_rotated_at`` (24 h by default), as Standard
Webhooks allows, so a receiver can switch to the new secret at its own pace.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from notifications.channels import webhook
from notifications.models import WebhookEndpoint


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
