"""Email: one function builds each named email set (healthchecks' ``make_message``)."""

import re
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string

_LINE_BREAKS = re.compile(r"[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]+")


def one_line(text: str) -> str:
    """Return ``text`` without line breaks, so it cannot start a new header."""
    return _LINE_BREAKS.sub(" ", str(text)).strip()


def message_domain() -> str:
    _, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return one_line(address.rpartition("@")[2] or "irt.localhost")


def make_message(name: str, *, to: str, context: dict, message_id: str, headers: dict | None = None,
                 to_name: str = "", connection=None) -> EmailMultiAlternatives:
    """Build the email named ``name`` from ``templates/notifications/emails/<name>-*``."""
    base = f"notifications/emails/{name}"
    subject = one_line(render_to_string(f"{base}-subject.txt", context))
    text = render_to_string(f"{base}-body.txt", context)
    html = render_to_string(f"{base}-body.html", context)
    recipient = formataddr((one_line(to_name), one_line(to))) if to_name else one_line(to)
    all_headers = {"Message-ID": f"<{message_id}@{message_domain()}>", "Auto-Submitted": "auto-generated"}
    all_headers.update({one_line(k): one_line(v) for k, v in (headers or {}).items()})
    message = EmailMultiAlternatives(subject, text, to=[recipient], headers=all_headers, connection=connection)
    message.attach_alternative(html, "text/html")
    return message


def send(message: EmailMultiAlternatives, *, connection=None) -> None:
    """Send one message; raise on any failure so the caller can retry."""
    connection = connection or message.connection or get_connection(fail_silently=False)
    sent = connection.send_messages([message])
    if sent != 1:
        raise RuntimeError("the mail backend accepted no message")
