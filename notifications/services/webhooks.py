"""Webhook endpoints: create and rotate; the secret is returned once and never shown again."""

from django.db import transaction
from django.utils import timezone

from notifications.channels import webhook
from notifications.models import WebhookEndpoint


@transaction.atomic
def create_endpoint(*, organization, url: str, description: str = "") -> tuple[WebhookEndpoint, str]:
    """Create an endpoint; return it with its secret, which the caller shows once."""
    webhook.check_url(url)
    secret = webhook.new_secret()
    endpoint = WebhookEndpoint.objects.create(organization=organization, url=url, description=description, secret=secret)
    return endpoint, secret


@transaction.atomic
def rotate_secret(*, endpoint: WebhookEndpoint) -> str:
    """Replace the signing secret; return the new one (shown once)."""
    secret = webhook.new_secret()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(secret=secret, secret_rotated_at=timezone.now())
    endpoint.secret = secret
    return secret
