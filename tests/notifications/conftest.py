"""A real SMTP sink on 127.0.0.1, a breach affecting Contoso and Fabrikam, and email settings."""

import asyncio
import email
import socket
import threading
from email import policy

import pytest

from cases.models import Case
from cases.services import breach, communications
from tests.factories import AffectedCustomerFactory, StaffFactory, case_in_stage
from cases.services import cases as case_services


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Sink:
    """Collects what an aiosmtpd server accepted."""

    def __init__(self, port: int, *, delay: float = 0.0):
        self.port = port
        # Seconds the server takes over each message, as a real one does (0: answer at once).
        self.delay = delay
        self.messages = []
        self._lock = threading.Lock()
        self.controller = None

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        with self._lock:
            self.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted"

    def start(self):
        from aiosmtpd.controller import Controller

        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def to(self, address):
        return [m for rcpts, m in self.messages if address in rcpts]


@pytest.fixture
def smtp_port():
    return free_port()


@pytest.fixture
def smtp_settings(settings, smtp_port):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp_port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    return settings


@pytest.fixture
def smtp_sink(smtp_settings, smtp_port):
    sink = Sink(smtp_port)
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def stopped_sink(smtp_settings, smtp_port):
    """A sink that is not listening yet: the SMTP server is down until the test starts it."""
    sink = Sink(smtp_port)
    yield sink
    sink.stop()


CONTOSO_IMPACT = "Three objects in bucket contoso-reports were read by an unknown party."
FABRIKAM_IMPACT = "Fabrikam invoices table rows were altered by the attacker."


@pytest.fixture
def breach_case(manager, comms, contoso, fabrikam):
    """A stabilizing case with Contoso (disclosed) and Fabrikam (altered) affected and a breach declared."""
    case = case_in_stage(Case.Status.STABILIZING, manager=manager)
    AffectedCustomerFactory(case=case, by=manager, organization=contoso, data_disclosed=True, impact_statement=CONTOSO_IMPACT)
    AffectedCustomerFactory(case=case, by=manager, organization=fabrikam, data_disclosed=False, data_altered=True,
                            impact_statement=FABRIKAM_IMPACT)
    return breach.declare_breach(case=case, by=manager, note="Logs confirm external reads.")


def publish_update(case, *, comms, title="Unauthorised read access to some buckets"):
    author = StaffFactory()
    case_services.add_member(case=case, by=case.owner, user=author)
    update = communications.draft_update(
        case=case, by=author, status="identified", public_title=title,
        what_happened="A faulty policy rollout let another account read objects.",
        what_we_are_doing="We rolled the policy engine back.",
        what_you_should_do="Rotate any credentials stored in the listed objects.",
    )
    return communications.approve_update(update=update, by=comms)
