"""From a declared breach to the customer: notice by email, the incident page, the public review.

A manager declares the breach and drafts the customer update in the browser, comms approves
it, the real worker (``db_worker --batch``) delivers the breach notice to a real SMTP server,
the deadline shows as met, a Contoso user reads and acknowledges, a Fabrikam user cannot reach
the page, and an anonymous reader opens the public review.
"""

import socket
import threading

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from cases.models import Acknowledgement, Case, Organization, User
from tests.factories import AffectedCustomerFactory, case_in_stage

pytestmark = pytest.mark.e2e

# The customer update the manager drafts, by the label of each field.
UPDATE = {
    "Public title": "Database snapshots copied to another account",
    "What happened": "A faulty sharing rule let another account copy some of your snapshots.",
    "What you should do": "Rotate the credentials stored in the affected databases.",
}


class SmtpSink:
    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), envelope.content.decode("utf-8", "replace")))
        return "250 OK"


@pytest.fixture
def smtp(settings):
    from aiosmtpd.controller import Controller

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sink = SmtpSink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", port, False
    yield sink
    controller.stop()


def run_worker():
    call_command("db_worker", batch=True, no_startup_delay=True, reload=False, verbosity=0)


def test_breach_notice_reaches_contoso_only_and_customers_read_what_they_should(
    page, site, demo_data, sign_in, sign_out, open_case_as, fill_form, screenshot, smtp
):
    manager = User.objects.get(username="manager")
    contoso, fabrikam = Organization.objects.get(slug="contoso"), Organization.objects.get(slug="fabrikam")
    case = case_in_stage(Case.Status.STABILIZING, manager=manager, title="Snapshot export to a foreign account")
    AffectedCustomerFactory(case=case, by=manager, organization=contoso, data_disclosed=True,
                            impact_statement="Two database snapshots were copied to an account you do not own.")
    page.on("dialog", lambda dialog: dialog.accept())

    # -- The manager declares the breach and drafts what customers will read. ---------------------
    open_case_as(page, "manager", case.reference)
    page.get_by_role("link", name="Declare breach…").click()
    page.get_by_label("What makes this a breach").fill("Snapshot copy events in the audit log for the Contoso account.")
    # The page asks when severity or category disagree with a breach; set both with the declaration.
    severity = page.get_by_label("Raise severity to Critical")
    if severity.count():
        severity.check()
    category = page.get_by_label("Breach category")
    if category.count():
        category.select_option(label="Privacy breach")
    page.get_by_label("I confirm: start the customer-notice clock now.").check()
    page.get_by_role("button", name="Declare breach and start the clock").click()
    expect(page.locator(".messages")).to_contain_text("Breach declared")
    expect(page.locator("#deadlines-h")).to_be_visible()
    page.get_by_role("link", name="Draft an update").click()
    fill_form(page, UPDATE)
    page.get_by_role("button", name="Save draft for approval").click()
    expect(page.locator(".messages")).to_contain_text("Someone else must approve it")
    screenshot(page, "customer-journey-01-breach-declared-update-drafted")
    sign_out(page)

    # -- Comms finds the draft on the dashboard and approves it. ----------------------------------
    sign_in(page, "comms", demo_data)
    approvals = page.locator("#approve-h").locator("xpath=..")
    expect(approvals).to_contain_text(UPDATE["Public title"])
    approvals.locator("li", has_text=UPDATE["Public title"]).get_by_role("link").first.click()
    page.get_by_role("button", name="Approve and publish").click()
    expect(page.locator(".messages")).to_contain_text("Update published")
    screenshot(page, "customer-journey-02-comms-approved")
    sign_out(page)

    # -- The worker delivers; Contoso's contacts get the notice, Fabrikam's get nothing. ----------
    run_worker()
    recipients = [address for rcpts, _ in smtp.messages for address in rcpts]
    for address in contoso.security_contact_emails():
        notices = [body for rcpts, body in smtp.messages if address in rcpts and case.reference in body]
        assert len(notices) == 1, (address, recipients)
        assert "Two database snapshots were copied" in notices[0]
    assert not set(fabrikam.security_contact_emails()) & set(recipients)

    open_case_as(page, "manager", case.reference)
    expect(page.locator("#deadlines-h").locator("xpath=..")).to_contain_text("Met")
    screenshot(page, "customer-journey-03-deadline-met")
    sign_out(page)

    # -- A Contoso user reads the incident page and acknowledges it. -------------------------------
    sign_in(page, "customer-contoso", demo_data)
    page.get_by_role("link", name=UPDATE["Public title"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(UPDATE["Public title"])
    expect(page.locator("body")).to_contain_text("Two database snapshots were copied to an account you do not own.")
    expect(page.locator("body")).not_to_contain_text("Fabrikam")
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.locator("body")).to_contain_text("You acknowledged this")
    screenshot(page, "customer-journey-04-contoso-acknowledged")
    assert Acknowledgement.objects.filter(case=case, user__username="customer-contoso").exists()
    sign_out(page)

    # -- A Fabrikam user cannot reach it, exactly as if it did not exist. -------------------------
    sign_in(page, "customer-fabrikam", demo_data)
    expect(page.locator("body")).not_to_contain_text("Database snapshots copied")
    response = page.goto(f"{site}/portal/incidents/{case.reference}/")
    assert response.status == 404
    missing = page.goto(f"{site}/portal/incidents/IRT-2099-9999/")
    assert missing.status == 404
    screenshot(page, "customer-journey-05-fabrikam-404")
    sign_out(page)

    # -- Anyone reads the public post-incident review. ----------------------------------------
    page.goto(f"{site}/lessons/")
    page.get_by_role("link", name="Phishing campaign impersonating our support desk").click()
    expect(page.get_by_role("heading", level=2, name="What went wrong and why")).to_be_visible()
    expect(page.locator("body")).to_contain_text("Take down look-alike domains within one hour")
    expect(page.locator("body")).not_to_contain_text("Contoso")
    screenshot(page, "customer-journey-06-public-review")
