"""Signed webhooks to a local receiver; SSRF refusals; 410, Retry-After and redirects."""

import json
import socket
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from notifications.channels import webhook
from notifications.models import Delivery, WebhookEndpoint
from notifications.services import delivery as service
from notifications.services.webhooks import create_endpoint, rotate_secret
from tests.notifications.conftest import CONTOSO_IMPACT, FABRIKAM_IMPACT, publish_update

Status = Delivery.Status


class Receiver:
    """An HTTP receiver on 127.0.0.1 that verifies Standard Webhooks signatures like a customer would."""

    def __init__(self):
        self.secret = None
        self.received = []  # (headers, body) that verified
        self.rejected = []
        self.responses = []  # queued (status, headers) answers; 204 when empty
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                if not webhook.verify(receiver.secret, headers, body, tolerance=300):
                    receiver.rejected.append(headers)
                    self.send_response(401)
                    self.end_headers()
                    return
                status, extra = receiver.responses.pop(0) if receiver.responses else (204, {})
                if 200 <= status < 300:
                    receiver.received.append((headers, body))
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/irt"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings):
    settings.IRT_WEBHOOK_ALLOW_PRIVATE = True
    server = Receiver()
    yield server
    server.stop()


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
    assert second != first and WebhookEndpoint.objects.get(pk=endpoint.pk).secret == second


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
