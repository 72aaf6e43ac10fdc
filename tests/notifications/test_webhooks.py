"""Signed webhooks to a local receiver; SSRF refusals; 410, Retry-After and redirects."""

import json
import socket
import time
from datetime import timedelta

import pytest
import standardwebhooks
from django.urls import reverse
from django.utils import timezone

from notifications.channels import webhook
from notifications.models import Delivery, WebhookEndpoint
from notifications.services import delivery as service
from notifications.services.webhooks import create_endpoint, current_secret, rotate_secret, signing_secrets
from tests.loopback import receiver  # noqa: F401 - the fixture
from tests.notifications.conftest import CONTOSO_IMPACT, FABRIKAM_IMPACT, publish_update

Status = Delivery.Status


@pytest.fixture
def contoso_hook(receiver, contoso):
    endpoint, secret = create_endpoint(organization=contoso, url=receiver.url)
    receiver.secret = secret
    return endpoint


def hook_rows(case):
    return Delivery.objects.filter(notification__case=case, channel=Delivery.Channel.WEBHOOK)


def test_breach_notice_webhook_is_signed_and_carries_only_the_receivers_impact(contoso_hook, receiver, breach_case, comms):
    publish_update(breach_case, comms=comms)
    [row] = hook_rows(breach_case)
    assert service.deliver(row.pk) == Status.DELIVERED
    [(headers, body)] = receiver.received
    assert headers["webhook-id"] == str(row.pk)
    assert headers["webhook-signature"].startswith("v1,")
    payload = json.loads(body)
    assert payload["type"] == "incident.breach_notice"
    assert payload["data"]["incident"]["reference"] == breach_case.reference
    assert payload["data"]["impact"]["statement"] == CONTOSO_IMPACT
    assert FABRIKAM_IMPACT not in body.decode() and "fabrikam" not in body.decode().lower()
    # A webhook delivery is a delivered breach notice too.
    assert breach_case.affected_customers.get(organization=contoso_hook.organization).notified_at is not None


def test_secret_is_long_random_and_rotation_changes_it(contoso):
    import base64

    endpoint, first = create_endpoint(organization=contoso, url="https://hooks.contoso.example/irt")
    assert first.startswith("whsec_") and len(base64.b64decode(first[6:])) >= 24
    second = rotate_secret(endpoint=endpoint)
    stored = WebhookEndpoint.objects.get(pk=endpoint.pk)
    assert second != first and current_secret(stored) == second
    assert signing_secrets(stored) == [second, first]  # the overlap: see test_secret_rotation.py


def test_receiver_rejects_a_stale_timestamp_and_a_wrong_signature(contoso_hook, receiver):
    body = b'{"type":"test"}'
    stale = int(time.time()) - 3600
    result = webhook.post(url=receiver.url, secret=receiver.secret, msg_id="msg_1", body=body, timestamp=stale)
    assert result.status == 401
    result = webhook.post(url=receiver.url, secret=webhook.new_secret(), msg_id="msg_2", body=body)
    assert result.status == 401
    assert len(receiver.rejected) == 2 and receiver.received == []
    assert webhook.post(url=receiver.url, secret=receiver.secret, msg_id="msg_3", body=body).status == 204


def test_known_signature_vector():
    """The example from the Standard Webhooks specification."""
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    assert webhook.sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == \
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_410_disables_the_endpoint_and_ends_the_delivery(contoso_hook, receiver, breach_case, comms):
    receiver.responses.append((410, {}))
    publish_update(breach_case, comms=comms)
    [row] = hook_rows(breach_case)
    assert service.deliver(row.pk) == Status.DEAD
    contoso_hook.refresh_from_db()
    assert not contoso_hook.is_active and "410" in contoso_hook.disabled_reason


def test_retry_after_is_honoured(contoso_hook, receiver, breach_case, comms):
    receiver.responses.append((503, {"Retry-After": "7200"}))
    publish_update(breach_case, comms=comms)
    [row] = hook_rows(breach_case)
    now = timezone.now()
    assert service.deliver(row.pk, now=now) == Status.PENDING
    row.refresh_from_db()
    assert row.next_attempt_at >= now + timedelta(seconds=3600)  # capped by IRT_NOTIFY_RETRY_MAX_SECONDS
    assert service.deliver(row.pk, now=now + timedelta(minutes=30)) == "skipped"
    assert service.deliver(row.pk, now=now + timedelta(hours=3)) == Status.DELIVERED


def test_a_redirect_is_not_followed(receiver, contoso, breach_case, comms):
    endpoint, receiver.secret = create_endpoint(organization=contoso, url=receiver.url)
    receiver.responses.append((302, {"Location": "http://169.254.169.254/latest/meta-data/"}))
    publish_update(breach_case, comms=comms)
    [row] = hook_rows(breach_case)
    assert service.deliver(row.pk) == Status.PENDING
    row.refresh_from_db()
    assert "redirect" in row.last_error and "not followed" in row.last_error


@pytest.mark.parametrize("url", [
    "https://127.0.0.1/hook", "https://169.254.169.254/latest/meta-data/", "https://[::1]/hook",
    "https://10.0.0.7/hook", "https://[::ffff:127.0.0.1]/hook", "https://0.0.0.0/hook",
])
def test_webhooks_to_internal_addresses_are_refused(url):
    with pytest.raises(webhook.WebhookRefused):
        webhook.post(url=url, secret=webhook.new_secret(), msg_id="m", body=b"{}")


def test_a_hostname_resolving_to_a_private_address_is_refused_at_send_time(monkeypatch, contoso, breach_case, comms):
    endpoint, _ = create_endpoint(organization=contoso, url="https://hooks.contoso.example/irt")
    calls = []

    def fake_getaddrinfo(host, port, *args, **kwargs):
        calls.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.168.1.20", port))]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    publish_update(breach_case, comms=comms)
    [row] = hook_rows(breach_case)
    assert service.deliver(row.pk) == Status.DEAD
    row.refresh_from_db()
    assert calls == ["hooks.contoso.example"] and "non-public address" in row.last_error


def test_http_urls_are_refused_outside_debug(settings):
    settings.DEBUG = False
    settings.IRT_WEBHOOK_ALLOW_PRIVATE = False
    with pytest.raises(webhook.WebhookRefused):
        webhook.check_url("http://hooks.example.com/irt")
    with pytest.raises(webhook.WebhookRefused):
        webhook.check_url("https://user:pw@hooks.example.com/irt")
    webhook.check_url("https://hooks.example.com/irt")


def test_a_public_address_is_allowed():
    assert webhook.is_public_address("93.184.216.34")
    assert not webhook.is_public_address("100.64.0.1")  # carrier-grade NAT
    assert not webhook.is_public_address("fd00:ec2::254")


SPECIAL_USE_ADDRESSES = [
    "0.1.2.3", "10.1.2.3", "100.64.0.1", "100.127.255.254", "127.0.0.1", "169.254.169.254", "172.16.5.4",
    "192.0.0.8", "192.0.2.10", "192.88.99.1", "192.168.1.1", "198.18.0.1", "198.19.255.1", "198.51.100.7",
    "203.0.113.9", "224.0.0.251", "239.255.255.250", "240.0.0.1", "255.255.255.255",
    "::", "::1", "::ffff:10.0.0.1", "::ffff:127.0.0.1", "::10.0.0.1", "::127.0.0.1",
    "64:ff9b::a00:1", "64:ff9b::7f00:1", "64:ff9b::808:808", "64:ff9b:1::a00:1",
    "2001:0:4136:e378:8000:63bf:f5ff:fffe",  # Teredo, client 10.0.0.1
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo, client 192.0.2.45
    "2001:db8::1", "2002:7f00:1::1", "2002:a00:1::1", "2002:808:808::1", "3fff::1", "100::1",
    "fc00::1", "fd00:ec2::254", "fe80::1", "fec0::1", "fec0:1:2:3::4", "ff02::1", "ff05::2",
]


@pytest.mark.parametrize("address", SPECIAL_USE_ADDRESSES)
def test_special_use_addresses_are_not_public(address):
    assert not webhook.is_public_address(address)


@pytest.mark.parametrize("address", SPECIAL_USE_ADDRESSES)
def test_a_url_naming_a_special_use_address_is_refused_before_any_connection(address, settings):
    settings.IRT_WEBHOOK_ALLOW_PRIVATE = False
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(webhook.WebhookRefused):
        webhook.check_url(f"https://{host}/hook")


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "2a00:1450:4001:80b::200e"])
def test_public_addresses_are_allowed(address):
    assert webhook.is_public_address(address)


def test_a_host_name_resolving_to_6to4_or_nat64_is_refused_at_send_time(monkeypatch):
    def fake_getaddrinfo(host, port, *args, **kwargs):
        return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("2002:7f00:1::1", port, 0, 0)),
                (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("64:ff9b::a9fe:a9fe", port, 0, 0))]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    with pytest.raises(webhook.WebhookRefused):
        webhook.resolve_public("hooks.example.com", 443)


def test_service_refuses_an_endpoint_on_an_internal_address(contoso):
    with pytest.raises(webhook.WebhookRefused):
        create_endpoint(organization=contoso, url="https://[fec0::1]/hook")
    assert not WebhookEndpoint.objects.exists()


def endpoint_form_data(contoso, url):
    return {"organization": contoso.pk, "url": url, "description": "", "is_active": "on", "disabled_reason": ""}


@pytest.mark.parametrize("url", ["https://[2002:a00:1::1]/hook", "https://[64:ff9b::a00:1]/hook", "https://10.0.0.7/hook",
                                 "https://[::ffff:192.168.0.1]/hook"])
def test_admin_runs_the_webhook_url_check_when_an_endpoint_is_saved(client, admin, contoso, url):
    client.force_login(admin)
    response = client.post(reverse("admin:notifications_webhookendpoint_add"), endpoint_form_data(contoso, url))
    assert response.status_code == 200
    assert "not a public internet address" in str(response.context["adminform"].form.errors["url"])
    assert not WebhookEndpoint.objects.exists()


def test_admin_saves_an_endpoint_on_a_public_host(client, admin, contoso):
    client.force_login(admin)
    response = client.post(reverse("admin:notifications_webhookendpoint_add"),
                           endpoint_form_data(contoso, "https://hooks.contoso.example/irt"))
    assert response.status_code == 302
    assert WebhookEndpoint.objects.get().url == "https://hooks.contoso.example/irt"


def test_admin_save_runs_the_url_guard_even_when_its_form_is_bypassed(rf, admin, contoso):
    # The form's field check is the friendly message; the service is the rule (an admin action or
    # a subclass saving without the form still meets it).
    from django.contrib import admin as django_admin

    model_admin = django_admin.site._registry[WebhookEndpoint]
    request = rf.post("/admin/")
    request.user = admin
    with pytest.raises(webhook.WebhookRefused):
        model_admin.save_model(request, WebhookEndpoint(organization=contoso, url="https://10.0.0.7/hook"), None, False)
    assert not WebhookEndpoint.objects.exists()


def test_our_signature_is_the_reference_librarys_for_a_non_ascii_body():
    from datetime import UTC, datetime

    secret = webhook.new_secret()
    body = '{"title":"Störung – 漏洩"}'.encode()
    ours = webhook.sign(secret, "msg_1", 1614265330, body)
    assert ours == standardwebhooks.Webhook(secret).sign("msg_1", datetime.fromtimestamp(1614265330, tz=UTC), body.decode())
    now = int(time.time())
    headers = {"webhook-id": "msg_2", "webhook-timestamp": str(now), "webhook-signature": webhook.sign(secret, "msg_2", now, body)}
    assert standardwebhooks.Webhook(secret).verify(body, headers) == {"title": "Störung – 漏洩"}
