"""'Your clocks' and the notification pack (issue 16, item 4): from the reader's own impact row only."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import AffectedCustomer, TimelineEvent
from cases.services import breach, communications
from cases.services.notices import record_customer_notified
from tests.cases.views.test_customer_feeds import CONTOSO_IMPACT, minute, publish_times, shared_incident  # noqa: F401 - a fixture
from tests.cases.views.test_privacy import pdf_text


@pytest.fixture
def notified_case(shared_incident, manager, comms):  # noqa: F811
    """Contoso and Fabrikam affected, a breach declared, and only Contoso's breach notice delivered."""
    case = breach.declare_breach(case=shared_incident, by=manager, note="Logs confirm external reads.")
    update = communications.draft_update(case=case, by=manager, public_title="Customer records exposed", status="identified",
                                         what_happened="A misconfigured export exposed records.",
                                         what_we_are_doing="We closed the export and rotated keys.",
                                         what_you_should_do="Tell your users to expect phishing.")
    communications.approve_update(update=update, by=comms)
    record_customer_notified(row=AffectedCustomer.objects.get(case=case, organization__slug="contoso"), how="test delivery")
    return case


def test_incident_page_shows_when_contoso_was_notified_and_offers_the_pack(client, contoso_user, notified_case):
    row = AffectedCustomer.objects.get(case=notified_case, organization__slug="contoso")
    client.force_login(contoso_user)
    page = client.get(reverse("portal:incident", args=[notified_case.reference])).content.decode()
    assert "Your clocks" in page and f"{row.notified_at:%Y-%m-%d %H:%M} UTC" in page
    assert reverse("portal:pack-pdf", args=[notified_case.reference]) in page


def test_pdf_pack_has_art_33_3_sections_from_contosos_row_only(client, contoso_user, notified_case):
    client.force_login(contoso_user)
    response = client.post(reverse("portal:pack-pdf", args=[notified_case.reference]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    text = pdf_text(response.content)
    for section in ("Nature of the personal data breach", "Categories and approximate number", "Our contact point",
                    "Likely consequences", "Measures taken", "Measures proposed"):
        assert section in text
    assert CONTOSO_IMPACT in text and "We closed the export" in text and "expect phishing" in text
    assert "FABRIKAM" not in text and "Fabrikam" not in text and "INTERNAL" not in text
    assert TimelineEvent.objects.filter(case=notified_case, kind=TimelineEvent.Kind.REPORT_GENERATED,
                                        data__organization="contoso").exists()


def test_json_pack_carries_the_awareness_time_and_own_impact(client, contoso_user, notified_case):
    client.force_login(contoso_user)
    data = client.get(reverse("portal:pack-json", args=[notified_case.reference])).json()
    row = AffectedCustomer.objects.get(case=notified_case, organization__slug="contoso")
    assert data["notified_at"] == row.notified_at.isoformat() and data["organization"] == "contoso"
    assert data["gdpr_art33_3"]["a_categories_and_numbers"] == {"impacts": ["disclosed"], "statement": CONTOSO_IMPACT}
    assert "FABRIKAM" not in str(data)


def test_an_organisation_not_yet_notified_has_no_clocks_and_no_pack(client, fabrikam_user, notified_case):
    client.force_login(fabrikam_user)
    page = client.get(reverse("portal:incident", args=[notified_case.reference])).content.decode()
    assert "Your clocks" not in page
    assert client.post(reverse("portal:pack-pdf", args=[notified_case.reference])).status_code == 404
    assert client.get(reverse("portal:pack-json", args=[notified_case.reference])).status_code == 404


def test_pack_says_when_the_breach_started_was_detected_and_is_ongoing(client, contoso_user, notified_case, manager, comms):
    now = minute(timezone.now())
    started, detected = now - timedelta(hours=9), now - timedelta(hours=7)
    publish_times(notified_case, by=manager, approver=comms, impact_started_at=started, detected_at=detected)
    client.force_login(contoso_user)
    text = pdf_text(client.post(reverse("portal:pack-pdf", args=[notified_case.reference])).content)
    assert f"Breach started: {started:%Y-%m-%d %H:%M} UTC" in text and f"Detected: {detected:%Y-%m-%d %H:%M} UTC" in text
    assert "Breach ended: ongoing" in text
    when = client.get(reverse("portal:pack-json", args=[notified_case.reference])).json()["gdpr_art33_3"]["a_when"]
    assert when == {"impact_started_at": started.isoformat(), "detected_at": detected.isoformat(), "impact_ended_at": None}


def test_pack_takes_the_window_from_the_published_review_when_the_latest_update_gives_none(
        client, contoso_user, notified_case, manager, comms):
    client.force_login(contoso_user)
    url = reverse("portal:pack-json", args=[notified_case.reference])
    assert client.get(url).json()["gdpr_art33_3"]["a_when"] == dict.fromkeys(("impact_started_at", "detected_at", "impact_ended_at"))
    text = pdf_text(client.post(reverse("portal:pack-pdf", args=[notified_case.reference])).content)
    assert "Breach started: not known yet" in text and "Breach ended: not known yet" in text
    now = minute(timezone.now())
    started, ended = now - timedelta(days=2), now - timedelta(days=1)
    review = communications.save_published_review(
        case=notified_case, by=manager, title="Export exposure", impact_started_at=started, impact_ended_at=ended,
        who_was_affected="Two customers.", what_happened="An export was public.", what_went_wrong="A flag.", how_we_responded="Closed it.",
    )
    communications.approve_published_review(review=review, by=comms)
    when = client.get(url).json()["gdpr_art33_3"]["a_when"]
    assert when == {"impact_started_at": started.isoformat(), "detected_at": None, "impact_ended_at": ended.isoformat()}
    text = pdf_text(client.post(reverse("portal:pack-pdf", args=[notified_case.reference])).content)
    assert f"Breach ended: {ended:%Y-%m-%d %H:%M} UTC" in text
