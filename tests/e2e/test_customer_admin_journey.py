"""Customers as first-class users (issue 16): Contoso's administrator adds a security contact and a webhook,
a breach notice reaches both (Standard Webhooks signature checked with the reference ``standardwebhooks``
library, the notice's Ed25519 signature with ``cryptography`` and the key from the well-known URL), the
page shows Contoso's clock and offers the notification pack, Contoso asks a question and sends a log file that
becomes evidence on the case, and Fabrikam's administrator sees none of it.
"""

import base64
import json

import pytest
import standardwebhooks
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from django.core.management import call_command
from playwright.sync_api import expect

from cases.models import Case, Evidence, Organization, SecurityEvent, User
from cases.services import breach, communications
from tests.e2e.test_customer_journey import smtp  # noqa: F401 - fixture
from tests.factories import AffectedCustomerFactory, case_in_stage
from tests.loopback import receiver  # noqa: F401 - fixture

pytestmark = pytest.mark.e2e

DESKTOP, PHONE = {"width": 1366, "height": 900}, {"width": 390, "height": 844}
IMPACT = "Customer records in your contoso-crm export (about 1,200 names and emails) were read by another account."


@pytest.fixture
def notice_key(settings, tmp_path):
    settings.IRT_NOTICE_KEY_FILE = tmp_path / "notice-signing.pem"
    settings.IRT_NOTICE_KEY_CREATE = True


def shots(page, screenshot, name):
    """Save the page at desktop and phone widths."""
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        screenshot(page, f"customer-admin-journey-{name}-{label}")
    page.set_viewport_size(DESKTOP)


def test_contoso_admin_sets_up_contacts_and_webhook_and_the_breach_notice_reaches_both(
    page, site, demo_data, sign_in, sign_out, screenshot, smtp, receiver, notice_key  # noqa: F811
):
    page.set_viewport_size(DESKTOP)
    page.on("dialog", lambda dialog: dialog.accept())

    # -- Contoso's administrator adds a security contact and a webhook. ----------------------------
    sign_in(page, "contoso-admin", demo_data)
    page.get_by_role("link", name="Organisation").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Contoso")
    page.get_by_label("Security contact email").fill("soc@contoso.example")
    page.get_by_role("button", name="Add contact").click()
    expect(page.locator(".messages")).to_contain_text("soc@contoso.example now receives security notices")
    expect(page.get_by_role("region", name="Security contacts")).to_contain_text("soc@contoso.example")
    shots(page, screenshot, "01-organisation")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Webhooks").click()
    page.get_by_label("Endpoint URL (https)").fill(receiver.url)
    page.get_by_label("Description").fill("Contoso SOAR")
    page.get_by_role("button", name="Add endpoint").click()
    secret = page.get_by_test_id("webhook-secret").inner_text()
    assert secret.startswith("whsec_")
    receiver.secret = secret  # the receiver verifies each POST as Contoso's SOAR would
    shots(page, screenshot, "02-webhook-added")
    sign_out(page)

    # -- A breach affecting Contoso is declared and its first update published. --------------------
    manager, comms = User.objects.get(username="manager"), User.objects.get(username="comms")
    contoso, fabrikam = Organization.objects.get(slug="contoso"), Organization.objects.get(slug="fabrikam")
    case = case_in_stage(Case.Status.STABILIZING, manager=manager, title="CRM export readable by another account")
    AffectedCustomerFactory(case=case, by=manager, organization=contoso, data_disclosed=True, impact_statement=IMPACT)
    breach.declare_breach(case=case, by=manager, note="Access logs show reads from a foreign account.")
    update = communications.draft_update(
        case=case, by=manager, status="identified", public_title="Customer records readable by another account",
        what_happened="A sharing rule on CRM exports let another account read them.",
        what_we_are_doing="We removed the rule and are reviewing every export.",
        what_you_should_do="Warn the people in your CRM about targeted phishing.")
    communications.approve_update(update=update, by=comms)
    call_command("db_worker", batch=True, no_startup_delay=True, reload=False, verbosity=0)

    # -- The notice reached the new contact by email and the webhook, both signed. -----------------
    emailed = [body for rcpts, body in smtp.messages if "soc@contoso.example" in rcpts and case.reference in body]
    assert len(emailed) == 1 and "Signature:" in emailed[0]
    assert not {address for rcpts, _ in smtp.messages for address in rcpts} & set(fabrikam.security_contact_emails())
    [(headers, body)] = receiver.received
    payload = standardwebhooks.Webhook(secret).verify(body, headers)  # raises unless the signature is right
    assert payload["type"] == "incident.breach_notice" and payload["data"]["impact"]["statement"] == IMPACT
    signed = payload["data"]["signature"]
    assert signed["public_key_url"].endswith("/.well-known/irt-notice-signing-key.pem")
    pem = page.request.get(f"{site}/.well-known/irt-notice-signing-key.pem").body()
    load_pem_public_key(pem).verify(base64.b64decode(signed["signature"]), signed["statement"].encode())
    statement = json.loads(signed["statement"])
    assert statement["case"] == case.reference and statement["what_happened"] == update.what_happened

    # -- Contoso reads its clock, and downloads the notification pack. ----------------------------
    sign_in(page, "contoso-admin", demo_data)
    page.get_by_role("link", name="Customer records readable by another account").click()
    clocks = page.get_by_role("region", name="Your clocks")
    expect(clocks).to_contain_text("Contoso was notified of this breach on")
    shots(page, screenshot, "03-incident-clocks")
    with page.expect_download() as download:
        clocks.get_by_role("button", name="Download notification pack (PDF)").click()
    assert download.value.suggested_filename == f"{case.reference}-contoso-notification-pack.pdf"
    pack = json.loads(page.request.get(f"{site}/portal/incidents/{case.reference}/notification-pack.json").text())
    assert pack["gdpr_art33_3"]["a_categories_and_numbers"]["statement"] == IMPACT

    # -- Contoso asks a question and sends the log file we asked for (item 6). ----------------------
    incident_url = page.url
    page.get_by_label("Your question").fill("Were the exports of our EU tenant read as well?")
    page.get_by_role("button", name="Send question").click()
    expect(page.locator(".messages")).to_contain_text("Your question is with the response team")
    expect(page.get_by_role("region", name="Questions and files")).to_contain_text("Were the exports of our EU tenant read")
    page.get_by_role("region", name="Files you sent").get_by_label("File").set_input_files(
        {"name": "contoso-proxy.log", "mimeType": "text/plain", "buffer": b"2026-12-01T10:00:00Z GET /exports/eu 200\n"})
    page.get_by_role("button", name="Send file").click()
    expect(page.locator(".messages")).to_contain_text("contoso-proxy.log received")
    item = Evidence.objects.get(case=case, original_name="contoso-proxy.log")
    sent = page.get_by_role("region", name="Files you sent")
    expect(sent).to_contain_text(item.sha256)
    shots(page, screenshot, "03b-question-and-file")
    custody = item.custody.get()
    assert custody.actor.username == "contoso-admin" and item.customer_upload.organization == contoso
    assert page.url.split("#")[0] == incident_url.split("#")[0]

    # The administrator sees the delivery on the endpoint's page.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Webhooks").click()
    page.get_by_role("link", name=receiver.url).click()
    expect(page.get_by_role("region", name="Recent deliveries")).to_contain_text("Delivered")
    shots(page, screenshot, "04-webhook-deliveries")
    endpoint_url = page.url
    sign_out(page)

    # -- Fabrikam's administrator sees none of it. ---------------------------------------------
    sign_in(page, "fabrikam-admin", demo_data)
    page.get_by_role("link", name="Organisation").click()
    expect(page.locator("body")).not_to_contain_text("soc@contoso.example")
    expect(page.locator("body")).not_to_contain_text("Contoso")
    shots(page, screenshot, "05-fabrikam-organisation")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Webhooks").click()
    expect(page.locator("body")).not_to_contain_text(receiver.url)
    assert page.goto(endpoint_url).status == 404
    assert page.goto(f"{site}/portal/incidents/{case.reference}/").status == 404
    assert page.request.get(f"{site}/portal/incidents/{case.reference}/notification-pack.json").status == 404

    assert page.request.post(f"{site}/portal/incidents/{case.reference}/questions/", form={"text": "Us too?"}).status in (403, 404)
    sign_out(page)

    # -- The case team reads the question and finds the file among the case's evidence. ------------
    sign_in(page, "manager", demo_data)
    page.goto(f"{site}/cases/{case.reference}/")
    panel = page.get_by_role("region", name="Customer questions and files")
    expect(panel).to_contain_text("Were the exports of our EU tenant read as well?")
    expect(panel).to_contain_text("contoso-proxy.log")
    shots(page, screenshot, "06-staff-questions")
    page.goto(f"{site}/cases/{case.reference}/evidence/")
    expect(page.locator("body")).to_contain_text(item.sha256)

    # Every change Contoso's administrator made is in the security log staff read.
    changes = SecurityEvent.objects.filter(kind=SecurityEvent.Kind.CUSTOMER_SETTINGS_CHANGED, actor__username="contoso-admin")
    assert {"added security contact" in d or "added webhook endpoint" in d for d in changes.values_list("detail", flat=True)} == {True}
    assert changes.count() == 2
