"""Signed webhooks (Standard Webhooks): signing, the SSRF guard, and one POST.

The receiver's address is resolved at send time and every resolved address is checked; the
connection then goes to the checked address (with the original Host header and TLS server
name), so a second DNS answer cannot swap in an internal address. Redirects are not followed.
"""

import base64
import hashlib
import hmac
import http.client
import ipaddress
import secrets
import socket
import ssl
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from django.conf import settings

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
TIMEOUT_SECONDS = 15
USER_AGENT = "IRT-Webhooks/1"
# Cloud metadata services that are not covered by the private/link-local ranges everywhere.
_METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254"),
             ipaddress.ip_address("100.100.100.200")}


class WebhookRefused(Exception):
    """The URL may not be called (scheme, or an address that is not on the public internet)."""


@dataclass
class WebhookResult:
    status: int
    retry_after: float | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def gone(self) -> bool:
        return self.status == 410


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """Return the ``webhook-signature`` value: ``v1,<base64 HMAC-SHA256 of id.timestamp.body>``."""
    content = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(_key(secret), content, hashlib.sha256).digest()).decode()


def verify(secret: str, headers, body: bytes, *, tolerance: int = 300, now: float | None = None) -> bool:
    """Verify a signed request as a receiver would (used by tests and shown in the docs)."""
    msg_id, timestamp = headers.get("webhook-id", ""), headers.get("webhook-timestamp", "")
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    if abs((now or time.time()) - ts) > tolerance:
        return False
    expected = sign(secret, msg_id, ts, body).partition(",")[2]
    return any(
        version == "v1" and hmac.compare_digest(expected, candidate)
        for version, _, candidate in (part.partition(",") for part in headers.get("webhook-signature", "").split())
    )


def _allow_private() -> bool:
    # Only the test suite sets this, to reach a receiver on 127.0.0.1.
    return bool(getattr(settings, "IRT_WEBHOOK_ALLOW_PRIVATE", False))


def check_url(url: str) -> None:
    """Refuse URLs that are not http(s), carry credentials, or (outside DEBUG) are not https."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise WebhookRefused("A webhook URL must be an https:// URL.")
    if parts.scheme == "http" and not (settings.DEBUG or _allow_private()):
        raise WebhookRefused("A webhook URL must use https.")
    if parts.username or parts.password:
        raise WebhookRefused("A webhook URL must not contain credentials.")


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not (
        ip in _METADATA or ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
        or ip.is_reserved or ip.is_unspecified or not ip.is_global
    )


def resolve_public(host: str, port: int) -> str:
    """Return an address for ``host`` after checking every address it resolves to."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ConnectionError(f"cannot resolve {host}: {exc}") from exc
    addresses = [info[4][0] for info in infos]
    if not addresses:
        raise ConnectionError(f"{host} has no address")
    if not _allow_private():
        refused = [a for a in addresses if not is_public_address(a)]
        if refused:
            raise WebhookRefused(f"{host} resolves to a non-public address ({refused[0]}); refused.")
    return addresses[0]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host, *, address, **kwargs):
        super().__init__(host, **kwargs)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host, *, address, **kwargs):
        super().__init__(host, context=ssl.create_default_context(), **kwargs)
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def post(*, url: str, secret: str, msg_id: str, body: bytes, timestamp: int | None = None) -> WebhookResult:
    """POST one signed body; return the receiver's answer. Network errors raise."""
    check_url(url)
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = resolve_public(parts.hostname, port)
    cls = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
    connection = cls(parts.hostname, port=port, address=address, timeout=TIMEOUT_SECONDS)
    timestamp = int(time.time()) if timestamp is None else timestamp
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
    }
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        detail = response.read(2000).decode("utf-8", "replace")
        result = WebhookResult(response.status, _retry_after(response.getheader("Retry-After")), detail)
    finally:
        connection.close()
    if 300 <= result.status < 400:
        result.detail = f"redirect to {response.getheader('Location', '?')} not followed"
    return result
