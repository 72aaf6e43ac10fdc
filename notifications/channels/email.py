"""Email: one function builds each named email set (healthchecks' ``make_message``), one connection sends them.

A worker keeps one SMTP connection per thread (``worker_mailer``) across messages and tasks: the
handshake costs more than a message on loopback. The connection is dropped after any failure and
reopened for the next message, and reopened before use once it has idled, so a server that closed
an idle connection costs nothing.
"""

import re
import secrets
import smtplib
import threading
import time
from email.policy import compat32
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.message import forbid_multi_line_headers
from django.template.loader import render_to_string

_LINE_BREAKS = re.compile(r"[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]+")
# Servers commonly close a connection idle for a minute or more; reopen well before that.
IDLE_SECONDS = 30


def one_line(text: str) -> str:
    """Return ``text`` without line breaks, so it cannot start a new header."""
    return _LINE_BREAKS.sub(" ", str(text)).strip()


def message_domain() -> str:
    _, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return one_line(address.rpartition("@")[2] or "irt.localhost")


def render_parts(name: str, context: dict) -> tuple[str, str, str]:
    """Render the subject, text body and HTML body of the email set ``templates/notifications/emails/<name>-*``."""
    base = f"notifications/emails/{name}"
    return (one_line(render_to_string(f"{base}-subject.txt", context)), render_to_string(f"{base}-body.txt", context),
            render_to_string(f"{base}-body.html", context))


def message_from_parts(parts: tuple[str, str, str], *, to: str, message_id: str, headers: dict | None = None,
                       to_name: str = "", connection=None, shared: bytes | None = None,
                       mark: str = "") -> EmailMultiAlternatives:
    """Build one message from rendered parts: the recipient and the headers are the only per-message work.

    With ``shared`` (``shared_mime`` of the same parts with ``mark`` for the id), the message sends
    those bytes filled in for this recipient and id instead of building its MIME again.
    """
    subject, text, html = parts
    recipient = formataddr((one_line(to_name), one_line(to))) if to_name else one_line(to)
    all_headers = {"Message-ID": f"<{message_id}@{message_domain()}>", "Auto-Submitted": "auto-generated"}
    all_headers.update({one_line(k): one_line(v) for k, v in (headers or {}).items()})
    prebuilt = {"shared": shared, "mark": mark, "delivery_id": message_id} if shared is not None else None
    message = (PrebuiltEmail(one_line(subject), text, to=[recipient], headers=all_headers, connection=connection, **prebuilt)
               if prebuilt else
               EmailMultiAlternatives(one_line(subject), text, to=[recipient], headers=all_headers, connection=connection))
    message.attach_alternative(html, "text/html")
    return message


# -- one MIME rendering for many recipients ---------------------------------------------------------

# Stands for the recipient in a message made once for many (random per process; .invalid never resolves).
_TO_MARK = f"irt-to-{secrets.token_hex(8)}@recipient.invalid"
_TO_MARK_LINE = f"To: {_TO_MARK}\r\n".encode()
# What Django's SMTP backend writes a message with: the email package's compat32 policy, CRLF.
_WIRE_POLICY = compat32.clone(linesep="\r\n")


def shared_mime(parts: tuple[str, str, str], *, mark: str, headers: dict | None = None) -> bytes | None:
    """Return the wire bytes of the email made from ``parts`` with ``mark`` where each recipient's id goes.

    Python's email package took longer to build each message's MIME and fold its headers than the
    SMTP exchange did, yet the recipients of one organisation's notice get the same message but for
    the To line and their delivery id (Message-ID, X-IRT-Delivery-ID, the links in the body). So it
    is built once, with ``mark`` as the id and a mark as the recipient, and ``PrebuiltEmail`` fills
    both in per recipient. None when a mark did not come through the encoding whole (an encoded subject,
    a quoted-printable line break inside it): then each message is built in full.
    """
    template = message_from_parts(parts, to=_TO_MARK, message_id=mark, headers=headers)
    raw = template.message().as_bytes(linesep="\r\n")
    written = sum(part.count(mark) for part in parts) + 1 + sum(str(value).count(mark) for value in (headers or {}).values())
    if raw.count(mark.encode()) != written or raw.count(_TO_MARK_LINE) != 1:
        return None
    return raw


class PrebuiltEmail(EmailMultiAlternatives):
    """An email that sends the bytes ``shared_mime`` made, filled in for its recipient and delivery id.

    Everything else (subject, bodies, recipients, headers) is an ordinary email's, so every mail
    backend and test reads it as one; only ``message()`` hands over the bytes already made.
    """

    def __init__(self, *args, shared: bytes, mark: str, delivery_id: str, **kwargs):
        super().__init__(*args, **kwargs)
        self._shared, self._mark, self._delivery_id = shared, mark, delivery_id

    def message(self):
        [recipient] = self.to
        _, to_value = forbid_multi_line_headers("To", recipient, self.encoding)
        wire = (self._shared.replace(self._mark.encode(), self._delivery_id.encode())
                .replace(_TO_MARK_LINE, _WIRE_POLICY.fold_binary("To", to_value)))
        return _WireMessage(wire)


class _WireMessage:
    """The part of ``email.message.Message`` the mail backends use: the message as bytes or text."""

    def __init__(self, wire: bytes):
        self._wire = wire

    def as_bytes(self, unixfrom=False, linesep="\n"):
        return self._wire if linesep == "\r\n" else self._wire.replace(b"\r\n", linesep.encode())

    def as_string(self, unixfrom=False, linesep="\n"):
        return self.as_bytes(linesep=linesep).decode("utf-8", "replace")


def make_message(name: str, *, to: str, context: dict, message_id: str, headers: dict | None = None,
                 to_name: str = "", connection=None) -> EmailMultiAlternatives:
    """Build the email named ``name`` from ``templates/notifications/emails/<name>-*``."""
    return message_from_parts(render_parts(name, context), to=to, message_id=message_id, headers=headers,
                              to_name=to_name, connection=connection)


class Mailer:
    """One mail connection reused for many messages: dropped after a failure, reopened after idling."""

    def __init__(self, connection=None, *, clock=time.monotonic):
        # A connection handed in (a benchmark's, a test's) is the caller's: used, never replaced.
        self._given = connection
        self._connection = connection
        self._clock = clock
        self._last_used = None

    def _open(self):
        if self._given is not None:
            return self._given
        if self._connection is not None and self._last_used is not None and self._clock() - self._last_used > IDLE_SECONDS:
            self.close()
        if self._connection is None:
            self._connection = get_connection(fail_silently=False)
            self._connection.open()
        return self._connection

    def send(self, message: EmailMultiAlternatives) -> None:
        """Send one message; raise on any failure (after dropping the connection) so the caller can retry."""
        reused = self._connection is not None and self._given is None
        try:
            sent = self._send_once(message)
        except (smtplib.SMTPServerDisconnected, ConnectionError):
            if not reused:
                raise
            # The server closed a connection this worker kept open: nothing was accepted on it, so
            # one more try on a fresh connection is not a second copy of the message.
            sent = self._send_once(message)
        self._last_used = self._clock()
        if sent != 1:
            raise RuntimeError("the mail backend accepted no message")

    def _send_once(self, message) -> int:
        try:
            return self._open().send_messages([message])
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        if self._connection is None or self._connection is self._given:
            return
        connection, self._connection = self._connection, None
        try:
            connection.close()
        except Exception:  # noqa: BLE001 - a broken connection is being dropped anyway
            pass


_local = threading.local()


def _settings_key() -> tuple:
    return (settings.EMAIL_BACKEND, settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_HOST_USER,
            settings.EMAIL_USE_TLS, settings.EMAIL_USE_SSL, settings.EMAIL_TIMEOUT)


def worker_mailer() -> Mailer:
    """Return this thread's long-lived mailer (a new one when the mail settings changed)."""
    key = _settings_key()
    mailer = getattr(_local, "mailer", None)
    if mailer is None or _local.key != key:
        if mailer is not None:
            mailer.close()
        _local.mailer, _local.key = Mailer(), key
    return _local.mailer


def send(message: EmailMultiAlternatives, *, connection=None) -> None:
    """Send one message; raise on any failure so the caller can retry."""
    connection = connection or message.connection or get_connection(fail_silently=False)
    sent = connection.send_messages([message])
    if sent != 1:
        raise RuntimeError("the mail backend accepted no message")
