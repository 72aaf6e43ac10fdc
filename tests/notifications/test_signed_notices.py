"""Signed notices (issue 16, item 5): every breach notice and update carries an Ed25519 signature a customer can check.

The checks use ``cryptography`` directly and the public key as served at the well-known URL,
never ``cases.services.notice_signing``: a verifier needs nothing of ours but the key.
"""

import base64
import json

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from django.urls import reverse

from cases.models import Case, TimelineEvent
from notifications.models import Delivery, Notification
from notifications.services import delivery as service
from tests.notifications.conftest import CONTOSO_IMPACT, publish_update
from tests.notifications.test_webhooks import contoso_hook, receiver  # noqa: F401 - fixtures


@pytest.fixture(autouse=True)
def notice_key(settings, tmp_path):
    settings.IRT_NOTICE_KEY_FILE = tmp_path / "keys" / "notice.pem"
    settings.IRT_NOTICE_KEY_CREATE = True
    return settings.IRT_NOTICE_KEY_FILE


def published_key(client):
    response = client.get(reverse("well_known:notice-signing-key"))
    assert response.status_code == 200 and response["Content-Type"] == "application/x-pem-file"
    assert "public" in response["Cache-Control"]
    return load_pem_public_key(response.content)


def test_webhook_breach_notice_verifies_with_the_published_key_and_names_the_timeline_head(
        client, contoso_hook, receiver, breach_case, comms):
    update = publish_update(breach_case, comms=comms)
    notification = Notification.objects.get(case=breach_case, kind=Notification.Kind.BREACH_NOTICE)
    [row] = Delivery.objects.filter(notification=notification, channel=Delivery.Channel.WEBHOOK)
    assert service.deliver(row.pk) == Delivery.Status.DELIVERED
    [(_, body)] = receiver.received
    signed = json.loads(body)["data"]["signature"]
    assert signed["algorithm"] == "Ed25519" and signed["public_key_url"].endswith("/.well-known/irt-notice-signing-key.pem")

    published_key(client).verify(base64.b64decode(signed["signature"]), signed["statement"].encode())

    statement = json.loads(signed["statement"])
    update.refresh_from_db()
    assert statement["kind"] == "breach_notice" and statement["case"] == breach_case.reference
    assert statement["what_happened"] == update.what_happened and statement["title"] == update.public_title
    assert statement["published_at"] == update.published_at.isoformat()
    # The head signed is the head right after the update was published, as the timeline has it.
    published_event = TimelineEvent.objects.filter(case=breach_case, kind=TimelineEvent.Kind.UPDATE_PUBLISHED).latest("sequence")
    assert statement["timeline_head"] == published_event.hash
    assert CONTOSO_IMPACT not in signed["statement"]  # the statement is the shared text, never one customer's impact


def test_a_changed_statement_or_another_key_does_not_verify(client, breach_case, comms, settings, tmp_path):
    publish_update(breach_case, comms=comms)
    notification = Notification.objects.get(case=breach_case, kind=Notification.Kind.BREACH_NOTICE)
    key = published_key(client)
    forged = notification.signed_statement.replace("A faulty policy", "A harmless policy")
    with pytest.raises(InvalidSignature):
        key.verify(base64.b64decode(notification.signature), forged.encode())
    settings.IRT_NOTICE_KEY_FILE = tmp_path / "other.pem"
    with pytest.raises(InvalidSignature):
        published_key(client).verify(base64.b64decode(notification.signature), notification.signed_statement.encode())


def test_every_incident_update_is_signed_and_its_email_carries_the_signature(client, breach_case, comms, smtp_sink):
    publish_update(breach_case, comms=comms)
    publish_update(breach_case, comms=comms, title="Second update: the policy is fixed")
    notices = Notification.objects.filter(case=breach_case, kind__in=Notification.CUSTOMER_KINDS)
    assert {n.kind for n in notices} == {"breach_notice", "incident_update"}
    key = published_key(client)
    for notice in notices:
        key.verify(base64.b64decode(notice.signature), notice.signed_statement.encode())
    email = Delivery.objects.filter(notification__in=notices, channel=Delivery.Channel.EMAIL).first()
    service.deliver(email.pk)
    [message] = smtp_sink.to(email.address)
    text = message.get_body(("plain",)).get_content()
    assert email.notification.signature in text and email.notification.signed_statement in text


def test_staff_notifications_are_not_signed(breach_case, comms):
    publish_update(breach_case, comms=comms)
    assert not Notification.objects.filter(kind=Notification.Kind.APPROVAL_REQUESTED).exclude(signature="").exists()
    assert Case.objects.get(pk=breach_case.pk).timeline_head


def test_production_refuses_a_missing_or_unreadable_notice_key(settings, tmp_path, notice_key):
    from django.core.checks import run_checks

    def errors():
        return [error for error in run_checks(tags=["security"]) if error.id == "cases.E004"]

    settings.DEBUG = False
    settings.IRT_NOTICE_KEY_CREATE = True  # the check passes create=False whatever this says
    assert errors() and not notice_key.exists()  # checking never creates a key
    settings.IRT_NOTICE_KEY_FILE = None
    assert "IRT_NOTICE_KEY_FILE is not set" in errors()[0].msg
    settings.IRT_NOTICE_KEY_FILE = tmp_path / "not-a-key.pem"
    settings.IRT_NOTICE_KEY_FILE.write_text("hello")
    assert "is not a PEM private key" in errors()[0].msg
    settings.IRT_NOTICE_KEY_FILE = notice_key
    from cases.services import notice_signing

    notice_signing.private_key()
    assert errors() == []
