"""The case report: every section in a PDF a text extractor reads, each generation on the timeline and only by POST, the customer version private."""

import hashlib
import io
from urllib.parse import urlsplit

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from pypdf import PdfReader

from cases.models import Case, TimelineEvent, hooks
from cases.services import breach, communications, evidence, timeline
from notifications.models import Delivery, Notification, WebhookEndpoint
from notifications.services import delivery as delivery_service
from tests.factories import AffectedCustomerFactory, case_in_stage

SECTIONS = (
    "1. Facts", "2. Stages and times", "3. Decisions and who made them", "4. Tasks and playbook deviations",
    "5. Affected organisations and notices", "6. Clocks and submissions", "7. Evidence manifest",
    "8. Post-incident review and repair items", "9. Timeline", "10. Timeline verification",
)


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


@pytest.fixture
def reported_case(manager, comms, contoso, fabrikam):
    """A stabilizing case affecting Contoso and Fabrikam, with a note, evidence and a published update."""
    case = case_in_stage(Case.Status.STABILIZING, manager=manager, title="Snapshot copy",
                         internal_summary="INTERNAL-SUMMARY: the key sat in a public repository")
    timeline.add_note(case=case, by=manager, text="INTERNAL-NOTE: team blue checked the proxy")
    AffectedCustomerFactory(case=case, by=manager, organization=contoso, data_disclosed=True,
                            impact_statement="CONTOSO-IMPACT: two snapshots were copied")
    AffectedCustomerFactory(case=case, by=manager, organization=fabrikam, data_lost=True,
                            impact_statement="FABRIKAM-IMPACT: one bucket was emptied")
    evidence.add_evidence(case=case, by=manager, content=ContentFile(b"GET /admin"), original_name="proxy.log")
    update = communications.draft_update(case=case, by=manager, public_title="Snapshots copied to another account",
                                         what_happened="A sharing rule let another account copy snapshots.")
    communications.approve_update(update=update, by=comms)
    case.refresh_from_db()
    return case


def test_internal_pdf_has_the_reference_and_every_section(client, manager, reported_case):
    client.force_login(manager)
    response = client.post(reverse("cases:report", args=[reported_case.reference, "pdf"]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{reported_case.reference}-report.pdf"'
    text = pdf_text(response.content)
    assert reported_case.reference in text
    for section in SECTIONS:
        assert section in text, section
    for expected in ("Contoso", "Fabrikam", "proxy.log", "INTERNAL-NOTE", "Verified: the hash chain"):
        assert expected in text, expected


def test_each_generation_is_a_timeline_event_with_the_documents_hash(client, manager, reported_case):
    head_before = reported_case.timeline_head
    client.force_login(manager)
    response = client.post(reverse("cases:report", args=[reported_case.reference, "pdf"]))
    event = TimelineEvent.objects.filter(case=reported_case).latest("sequence")
    assert event.kind == TimelineEvent.Kind.REPORT_GENERATED
    assert event.actor == manager
    assert event.data["sha256"] == hashlib.sha256(response.content).hexdigest()
    assert event.data["covers_head"] == head_before
    assert event.data["audience"] == "internal" and event.data["format"] == "pdf"


def test_html_version_shows_the_same_sections_and_loads_only_its_stylesheet(client, comms, reported_case):
    client.force_login(comms)
    response = client.post(reverse("cases:report", args=[reported_case.reference, "html"]))
    page = response.content.decode()
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    for section in SECTIONS:
        assert section in page
    assert "<script" not in page and "style=" not in page
    assert "/static/irt/report.css" in page


def test_unknown_format_is_a_404_and_writes_nothing(client, manager, reported_case):
    client.force_login(manager)
    count = reported_case.timeline.count()
    assert client.post(reverse("cases:report", args=[reported_case.reference, "docx"])).status_code == 404
    assert reported_case.timeline.count() == count


REPORT_URLS = [("cases:report", "manager", "pdf"), ("cases:report", "manager", "html"), ("portal:report", "contoso_user", None)]


@pytest.mark.parametrize(("url_name", "persona", "fmt"), REPORT_URLS)
def test_a_get_to_a_report_url_is_a_405_and_writes_nothing(client, request, reported_case, url_name, persona, fmt):
    """A cross-site link, image or prefetcher must not plant a "report generated" row in the reader's name."""
    client.force_login(request.getfixturevalue(persona))
    count = reported_case.timeline.count()
    args = [reported_case.reference, fmt] if fmt else [reported_case.reference]
    response = client.get(reverse(url_name, args=args))
    assert response.status_code == 405 and response["Allow"] == "POST"
    assert reported_case.timeline.count() == count


def test_a_report_post_without_the_csrf_token_is_refused_and_writes_nothing(manager, reported_case):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)
    count = reported_case.timeline.count()
    assert client.post(reverse("cases:report", args=[reported_case.reference, "html"])).status_code == 403
    assert reported_case.timeline.count() == count


def test_case_page_offers_the_report_as_post_forms(client, comms, reported_case):
    client.force_login(comms)
    page = client.get(reported_case.get_absolute_url()).content.decode()
    for fmt in ("pdf", "html"):
        action = reverse("cases:report", args=[reported_case.reference, fmt])
        assert f'<form method="post" action="{action}"' in page, fmt
    assert "Case report (PDF)" in page and "Case report (HTML)" in page


def test_incident_page_offers_the_customer_report_as_a_post_form(client, contoso_user, reported_case):
    client.force_login(contoso_user)
    page = client.get(reverse("portal:incident", args=[reported_case.reference])).content.decode()
    assert f'<form method="post" action="{reverse("portal:report", args=[reported_case.reference])}"' in page
    assert "Download report (PDF)" in page


def test_contoso_report_holds_contoso_impact_and_nothing_of_fabrikam_or_internal_notes(client, contoso_user, reported_case):
    client.force_login(contoso_user)
    response = client.post(reverse("portal:report", args=[reported_case.reference]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert reported_case.reference in text
    assert "CONTOSO-IMPACT" in text and "Snapshots copied to another account" in text
    for secret in ("Fabrikam", "FABRIKAM-IMPACT", "INTERNAL-NOTE", "INTERNAL-SUMMARY", "proxy.log", "manager"):
        assert secret not in text, secret
    event = TimelineEvent.objects.filter(case=reported_case).latest("sequence")
    assert event.kind == TimelineEvent.Kind.REPORT_GENERATED
    assert event.data["audience"] == "customer" and event.data["organization"] == "contoso"


def test_fabrikam_gets_404_for_a_contoso_only_report(client, fabrikam_user, manager, comms, contoso):
    case = case_in_stage(Case.Status.STABILIZING, manager=manager)
    AffectedCustomerFactory(case=case, by=manager, organization=contoso, data_disclosed=True)
    update = communications.draft_update(case=case, by=manager, public_title="Contoso only", what_happened="Snapshots.")
    communications.approve_update(update=update, by=comms)
    client.force_login(fabrikam_user)
    assert client.post(reverse("portal:report", args=[case.reference])).status_code == 404


def test_report_loads_nothing_from_urls_written_in_customer_text(client, contoso_user, manager, comms, contoso, monkeypatch):
    case = case_in_stage(Case.Status.STABILIZING, manager=manager)
    AffectedCustomerFactory(case=case, by=manager, organization=contoso, data_disclosed=True,
                            impact_statement="![tracker](http://169.254.169.254/latest/meta-data/)")
    update = communications.draft_update(case=case, by=manager, public_title="Images", what_happened="Text.")
    communications.approve_update(update=update, by=comms)
    import urllib.request

    def refuse(*args, **kwargs):
        raise AssertionError("the renderer fetched a URL")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    client.force_login(contoso_user)
    assert client.post(reverse("portal:report", args=[case.reference])).status_code == 200


@pytest.fixture
def noticed_case(manager, comms, reported_case):
    """The reported case with a breach declared, a webhook for Fabrikam, and every breach notice email delivered."""
    WebhookEndpoint.objects.create(organization=reported_case.affected_customers.get(organization__slug="fabrikam").organization,
                                   url="https://hooks.fabrikam.example/irt/TOKEN-IN-PATH", secret="whsec_dGVzdA==")
    breach.declare_breach(case=reported_case, by=manager, note="The copies left the account.")
    update = communications.draft_update(case=reported_case, by=manager, public_title="Your data was copied",
                                         what_happened="Snapshots holding your data were copied.")
    communications.approve_update(update=update, by=comms)
    for pk in breach_notice_emails(reported_case).values_list("pk", flat=True):
        assert delivery_service.deliver(pk) == Delivery.Status.DELIVERED
    reported_case.refresh_from_db()
    return reported_case


def breach_notice_emails(case):
    return Delivery.objects.filter(notification__case=case, notification__kind=Notification.Kind.BREACH_NOTICE,
                                   channel=Delivery.Channel.EMAIL)


def test_internal_report_lists_each_notice_delivery_with_its_receipt(client, manager, noticed_case):
    contoso_email = breach_notice_emails(noticed_case).get(address="security@contoso.example")
    client.force_login(manager)
    page = client.post(reverse("cases:report", args=[noticed_case.reference, "html"])).content.decode()
    receipts = page[page.index("<h3>Delivery receipts</h3>"):page.index("6. Clocks and submissions")]
    [row] = [row for row in receipts.split("<tr>") if str(contoso_email.pk) in row]
    for expected in ("Contoso", "Breach notice", "Email", "security@contoso.example", "Delivered",
                     contoso_email.delivered_at.strftime("%Y-%m-%d %H:%M:%S")):
        assert expected in row, expected
    assert "security@fabrikam.example" in receipts
    # A webhook is named by its host: the path of a receiver's URL may carry a token.
    assert "hooks.fabrikam.example" in receipts and "TOKEN-IN-PATH" not in page
    assert "Pending" in receipts


def test_delivery_receipts_are_one_query_however_many_deliveries(django_assert_num_queries, noticed_case):
    with django_assert_num_queries(1):
        receipts = hooks.case_delivery_receipts(noticed_case)
    customer_sends = Delivery.objects.filter(notification__case=noticed_case, notification__kind__in=Notification.CUSTOMER_KINDS,
                                             channel__in=Delivery.EXTERNAL_CHANNELS)
    assert len(receipts) == customer_sends.count() > 3


def test_delivery_receipts_compiled_once_are_the_orms_rows(noticed_case):
    """The receipts' SQL is compiled once per process (issue 18); each field is what the ORM gives."""
    sends = (Delivery.objects.filter(notification__case=noticed_case, notification__kind__in=Notification.CUSTOMER_KINDS,
                                     channel__in=Delivery.EXTERNAL_CHANNELS)
             .select_related("notification", "organization").order_by("organization__name", "created_at", "pk"))
    expected = [
        {"organization": send.organization.name if send.organization_id else "", "channel": send.get_channel_display(),
         "recipient": urlsplit(send.address).hostname if send.channel == Delivery.Channel.WEBHOOK else send.address,
         "kind": send.notification.get_kind_display(), "status": send.status, "status_label": send.get_status_display(),
         "delivered_at": send.delivered_at, "attempts": send.attempts, "message_id": str(send.pk)}
        for send in sends
    ]
    assert hooks.case_delivery_receipts(noticed_case) == expected and len(expected) > 3
    assert {receipt["status"] for receipt in expected} >= {Delivery.Status.DELIVERED, Delivery.Status.PENDING}


def test_internal_report_without_sent_notices_says_so(client, manager):
    case = case_in_stage(Case.Status.STABILIZING, manager=manager)
    client.force_login(manager)
    page = client.post(reverse("cases:report", args=[case.reference, "html"])).content.decode()
    assert "No notice was sent by email or webhook." in page


def test_contoso_report_names_no_delivery_of_fabrikam(client, contoso_user, noticed_case):
    fabrikam_email = breach_notice_emails(noticed_case).get(address="security@fabrikam.example")
    client.force_login(contoso_user)
    text = pdf_text(client.post(reverse("portal:report", args=[noticed_case.reference])).content)
    assert "Your data was copied" in text
    for secret in ("security@fabrikam.example", "hooks.fabrikam.example", str(fabrikam_email.pk), "Delivery receipts"):
        assert secret not in text, secret
