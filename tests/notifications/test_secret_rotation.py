"""Rotating a webhook secret signs with the old and the new one for an overlap, then with the new only."""

from datetime import timedelta

import pytest
import standardwebhooks
import time_machine
from django.utils import timezone

from notifications.channels import webhook
from notifications.models import Delivery, WebhookEndpoint
from notifications.services import delivery as service
from notifications.services.webhooks import create_endpoint, rotate_secret, signing_secrets
from tests.notifications.conftest import publish_update
from tests.loopback import Receiver

Status = Delivery.Status


def verifies(secret: str, headers: dict, body: bytes) -> bool:
    try:
        standardwebhooks.Webhook(secret).verify(body, headers)
    except standardwebhooks.webhooks.WebhookVerificationError:
        return False
    return True


@pytest.fixture
def rotated(settings, contoso):
    settings.IRT_WEBHOOK_ALLOW_PRIVATE = True
    receiver = Receiver()
    endpoint, old = create_endpoint(organization=contoso, url=receiver.url)
    new = rotate_secret(endpoint=endpoint)
    yield receiver, endpoint, old, new
    receiver.stop()


def test_during_the_overlap_receivers_with_either_secret_accept_the_webhook(rotated, breach_case, comms):
    receiver, endpoint, old, new = rotated
    receiver.secret = old  # a receiver that has not switched yet
    publish_update(breach_case, comms=comms)
    row = Delivery.objects.get(channel=Delivery.Channel.WEBHOOK)
    assert service.deliver(row.pk) == Status.DELIVERED
    [(headers, body)] = receiver.received
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert verifies(old, headers, body) and verifies(new, headers, body)


def test_after_the_overlap_only_the_new_secret_signs(rotated, settings):
    receiver, endpoint, old, new = rotated
    endpoint.refresh_from_db()
    later = timezone.now() + timedelta(hours=settings.IRT_WEBHOOK_SECRET_OVERLAP_HOURS, minutes=1)
    assert signing_secrets(endpoint, now=later) == [new]
    with time_machine.travel(later, tick=False):
        receiver.secret = old
        body = b'{"type":"test"}'
        assert webhook.post(url=receiver.url, secret=signing_secrets(endpoint), msg_id="m1", body=body,
                            timestamp=int(later.timestamp())).status == 401
        receiver.secret = new
        assert webhook.post(url=receiver.url, secret=signing_secrets(endpoint), msg_id="m2", body=body,
                            timestamp=int(later.timestamp())).status == 204


def test_the_overlap_is_configurable_and_zero_turns_it_off(settings, contoso):
    settings.IRT_WEBHOOK_SECRET_OVERLAP_HOURS = 2
    endpoint, old = create_endpoint(organization=contoso, url="https://hooks.contoso.example/irt")
    new = rotate_secret(endpoint=endpoint)
    assert signing_secrets(endpoint, now=timezone.now() + timedelta(hours=1)) == [new, old]
    assert signing_secrets(endpoint, now=timezone.now() + timedelta(hours=3)) == [new]
    settings.IRT_WEBHOOK_SECRET_OVERLAP_HOURS = 0
    newest = rotate_secret(endpoint=endpoint)
    assert signing_secrets(endpoint) == [newest]


def test_a_second_rotation_keeps_only_the_secret_it_replaced(settings, contoso):
    endpoint, first = create_endpoint(organization=contoso, url="https://hooks.contoso.example/irt")
    second = rotate_secret(endpoint=endpoint)
    third = rotate_secret(endpoint=endpoint)
    endpoint.refresh_from_db()
    assert signing_secrets(endpoint) == [third, second]
    assert (endpoint.secret, endpoint.previous_secret) == (third, second)
    assert first not in WebhookEndpoint.objects.values_list("secret", "previous_secret").get(pk=endpoint.pk)


def test_a_rotation_stores_the_replaced_secret_and_the_time_in_their_own_fields(settings, contoso):
    endpoint, old = create_endpoint(organization=contoso, url="https://hooks.contoso.example/irt")
    assert (endpoint.previous_secret, endpoint.secret_rotated_at) == ("", None)
    with time_machine.travel(timezone.now(), tick=False):
        new = rotate_secret(endpoint=endpoint)
        stored = WebhookEndpoint.objects.get(pk=endpoint.pk)
        assert (stored.secret, stored.previous_secret, stored.secret_rotated_at) == (new, old, timezone.now())
    settings.IRT_WEBHOOK_SECRET_OVERLAP_HOURS = 0
    rotate_secret(endpoint=endpoint)
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).previous_secret == ""
