"""Webhook endpoints: create and rotate; the secret is returned once and never shown again."""

from django.db import transaction
from django.utils import timezone

from notifications.channels import webhook
from notifications.models import WebhookEndpoint


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
    """Replace the signing secret; return the new one (shown once)."""
    secret = webhook.new_secret()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(secret=secret, secret_rotated_at=timezone.now())
    endpoint.secret = secret
    return secret
