"""Signed webhooks (Standard Webhooks): signing, the SSRF guard, and one POST.

The receiver's address is resolved at send time and every resolved address is checked; the
connection then goes to the checked address (with the original Host header and TLS server
name), so a second DNS answer cannot swap in an internal address. Redirects are not followed.

One attempt has one deadline (``IRT_WEBHOOK_TIMEOUT_SECONDS``) for connect, TLS, request and
response together: a socket timeout alone is per read, so a receiver trickling a byte every few
seconds would hold a worker without limit.
"""

import base64
import heapq
import http.client
import itertools
import ipaddress
import secrets
import socket
import ssl
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import standardwebhooks
from django.conf import settings

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
USER_AGENT = "IRT-Webhooks/1"
# Cloud metadata services that are not covered by the private/link-local ranges everywhere.
_METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254"),
             ipaddress.ip_address("100.100.100.200")}
# Special-use ranges (IANA IPv4/IPv6 Special-Purpose Address Registries, RFC 6890) refused
# whatever the ``ipaddress`` module of this Python version thinks of them: its properties have
# changed between releases and miss the translation prefixes that lead back to IPv4 hosts.
_REFUSED_NETWORKS = tuple(ipaddress.ip_network(net) for net in (
    "0.0.0.0/8",           # "this network"
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",  # private (RFC 1918)
    "100.64.0.0/10",       # carrier-grade NAT (RFC 6598)
    "127.0.0.0/8",         # loopback
    "169.254.0.0/16",      # link-local, cloud metadata
    "192.0.0.0/24",        # IETF protocol assignments
    "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24",  # documentation
    "192.31.196.0/24", "192.52.193.0/24", "192.175.48.0/24",  # AS112, AMT, direct delegation AS112
    "192.88.99.0/24",      # 6to4 relay anycast
    "198.18.0.0/15",       # benchmarking
    "224.0.0.0/4",         # multicast
    "240.0.0.0/4",         # reserved, and the limited broadcast address
    "::/128", "::1/128",   # unspecified, loopback
    "::/96",               # IPv4-compatible (deprecated)
    "::ffff:0:0/96",       # IPv4-mapped (checked by their IPv4 address too)
    "64:ff9b::/96", "64:ff9b:1::/48",  # NAT64: reaches any IPv4 host through a translator
    "100::/64",            # discard-only
    "2001::/23",           # IETF protocol assignments, Teredo (2001::/32) among them
    "2001:db8::/32", "3fff::/20",  # documentation
    "2002::/16",           # 6to4: reaches the embedded IPv4 address through a relay
    "5f00::/16",           # SRv6 SIDs
    "fc00::/7",            # unique local
    "fe80::/10",           # link-local
    "fec0::/10",           # site-local (deprecated, still routed inside some networks)
    "ff00::/8",            # multicast
))


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


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """Return the ``webhook-signature`` value: ``v1,<base64 HMAC-SHA256 of id.timestamp.body>``.

    The reference library signs, so what customers verify with it (or any Standard Webhooks
    library) is what was signed.
    """
    moment = datetime.fromtimestamp(timestamp, tz=UTC)
    return standardwebhooks.Webhook(secret).sign(msg_id, moment, body.decode())


def _allow_private() -> bool:
    # Only the test suite sets this, to reach a receiver on 127.0.0.1.
    return bool(getattr(settings, "IRT_WEBHOOK_ALLOW_PRIVATE", False))


def check_url(url: str) -> None:
    """Refuse URLs that are not http(s), carry credentials, are not https outside DEBUG, or name a non-public address.

    The one guard for webhook URLs: the service, Django admin and every send run it. A host name
    is checked again, address by address, when it is resolved at send time.
    """
    try:
        parts = urlsplit(url)
        hostname, _ = parts.hostname, parts.port
    except ValueError:
        raise WebhookRefused("That is not a valid URL.") from None
    if parts.scheme not in ("https", "http") or not hostname:
        raise WebhookRefused("A webhook URL must be an https:// URL.")
    if parts.scheme == "http" and not (settings.DEBUG or _allow_private()):
        raise WebhookRefused("A webhook URL must use https.")
    if parts.username or parts.password:
        raise WebhookRefused("A webhook URL must not contain credentials.")
    if _allow_private():
        return
    try:
        literal = ipaddress.ip_address(hostname.split("%", 1)[0])
    except ValueError:
        return  # a host name: checked when resolved
    if not is_public_address(str(literal)):
        raise WebhookRefused(f"{hostname} is not a public internet address; refused.")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """Return the IPv4 address a translation or transition address leads to, if any."""
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip.sixtofour:
        return ip.sixtofour
    if ip.teredo:
        return ip.teredo[1]  # (server, client): the client is the host reached
    packed = int(ip)
    if packed >> 32 == 0 and packed > 1:  # IPv4-compatible ::a.b.c.d
        return ipaddress.IPv4Address(packed & 0xFFFFFFFF)
    if ip in ipaddress.ip_network("64:ff9b::/96") or ip in ipaddress.ip_network("64:ff9b:1::/48"):
        return ipaddress.IPv4Address(packed & 0xFFFFFFFF)
    return None


def _refused(ip) -> bool:
    return (
        ip in _METADATA or any(ip in net for net in _REFUSED_NETWORKS if net.version == ip.version)
        or ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved
        or ip.is_unspecified or (ip.version == 6 and ip.is_site_local) or not ip.is_global
    )


def is_public_address(address: str) -> bool:
    """Return whether a webhook may connect to ``address`` (a literal IPv4 or IPv6 address)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if _refused(ip):
        return False
    embedded = _embedded_ipv4(ip) if ip.version == 6 else None
    return embedded is None or not _refused(embedded)


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


class _Watchdog:
    """One thread that cuts every attempt's socket at its deadline, in the order the deadlines fall.

    A timer thread per attempt cost a thread start per webhook and a second thread per slow
    receiver (a worker holding a thousand slow answers held two thousand threads). Ended attempts
    are only marked; their entries are dropped when they come to the top, or all at once when
    they outnumber the live ones.
    """

    def __init__(self):
        self._due: list[tuple[float, int, "AttemptDeadline", socket.socket]] = []
        self._order = itertools.count()
        self._live = 0
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    def watch(self, deadline: "AttemptDeadline", sock: socket.socket) -> None:
        with self._wake:
            heapq.heappush(self._due, (deadline.ends, next(self._order), deadline, sock))
            self._live += 1
            if self._thread is None or not self._thread.is_alive():  # also in a process forked after a start
                self._thread = threading.Thread(target=self._run, name="irt-webhook-deadlines", daemon=True)
                self._thread.start()
            elif self._due[0][2] is deadline:
                self._wake.notify()

    def ended(self) -> None:
        with self._wake:
            self._live -= 1
            if len(self._due) > 2 * self._live + 64:
                self._due = [entry for entry in self._due if not entry[2].ended]
                heapq.heapify(self._due)

    def _run(self) -> None:
        with self._wake:
            while True:
                now = time.monotonic()
                while self._due and (self._due[0][2].ended or self._due[0][0] <= now):
                    _, _, deadline, sock = heapq.heappop(self._due)
                    if not deadline.ended:
                        deadline.cut(sock)
                self._wake.wait(self._due[0][0] - now if self._due else None)


_watchdog = _Watchdog()


class AttemptDeadline:
    """Cut a connection that has not finished by a fixed time, whatever it is waiting for.

    The watchdog shuts the socket down at the deadline; the blocked read or write in the sending
    thread then fails at once, and ``expired`` tells the caller why.
    """

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.ends = time.monotonic() + seconds
        self.expired = False
        self.ended = False
        self._watched = False

    def passed(self) -> bool:
        """Whether the deadline is behind us, cut or not: the socket's own timeout may fire first."""
        return self.expired or time.monotonic() >= self.ends

    def remaining(self) -> float:
        left = self.ends - time.monotonic()
        if left <= 0:
            self.expired = True
            raise TimeoutError(f"no complete answer within {self.seconds:g} s")
        return left

    def watch(self, sock: socket.socket) -> None:
        self.remaining()
        self._watched = True
        _watchdog.watch(self, sock)

    def cut(self, sock: socket.socket) -> None:
        self.expired = True
        try:
            # The plain socket's shutdown, also for a TLS socket: it must not touch the TLS state
            # the sending thread is using, only make its blocked call return.
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        except OSError:
            pass

    def cancel(self) -> None:
        if self._watched and not self.ended:
            self.ended = True
            _watchdog.ended()


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host, *, address, deadline: AttemptDeadline, **kwargs):
        super().__init__(host, timeout=deadline.seconds, **kwargs)
        self._address = address
        self._deadline = deadline

    def _open_socket(self) -> socket.socket:
        sock = socket.create_connection((self._address, self.port), self._deadline.remaining())
        self._deadline.watch(sock)
        return sock

    def connect(self):
        self.sock = self._open_socket()


class _PinnedHTTPSConnection(_PinnedHTTPConnection, http.client.HTTPSConnection):
    def __init__(self, host, *, address, deadline: AttemptDeadline, **kwargs):
        super().__init__(host, address=address, deadline=deadline, context=ssl.create_default_context(), **kwargs)

    def connect(self):
        # The deadline already watches the plain socket, so a stalled TLS handshake is cut too.
        self.sock = self._context.wrap_socket(self._open_socket(), server_hostname=self.host)


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


def post(*, url: str, secret: str | Sequence[str], msg_id: str, body: bytes, timestamp: int | None = None,
         timeout: float | None = None) -> WebhookResult:
    """POST one signed body; return the receiver's answer. Network errors and the deadline raise.

    ``secret`` may be several secrets (during a rotation): the body is signed with each, and the
    receiver accepts it with any one (Standard Webhooks: space-separated signatures).
    """
    check_url(url)
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    deadline = AttemptDeadline(settings.IRT_WEBHOOK_TIMEOUT_SECONDS if timeout is None else timeout)
    address = resolve_public(parts.hostname, port)
    cls = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
    connection = cls(parts.hostname, port=port, address=address, deadline=deadline)
    timestamp = int(time.time()) if timestamp is None else timestamp
    secrets_ = [secret] if isinstance(secret, str) else list(secret)
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(sign(each, msg_id, timestamp, body) for each in secrets_),
    }
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        detail = response.read(2000).decode("utf-8", "replace")
        result = WebhookResult(response.status, _retry_after(response.getheader("Retry-After")), detail)
    except (OSError, http.client.HTTPException) as exc:
        if deadline.passed():
            raise TimeoutError(f"no complete answer within {deadline.seconds:g} s (connect, TLS, request and response)") from exc
        raise
    finally:
        deadline.cancel()
        connection.close()
    if 300 <= result.status < 400:
        result.detail = f"redirect to {response.getheader('Location', '?')} not followed"
    return result
