"""Issue 16, item 7, in the browser's terms: the staff forms set the times, the review page and the portal show them."""

from datetime import datetime, timedelta, timezone as tz

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import Case, IncidentUpdate
from cases.services import cases as case_services
from cases.services import communications
from tests.factories import AffectedCustomerFactory, case_in_stage

STARTED = datetime(2026, 11, 2, 6, 15, tzinfo=tz.utc)
DETECTED = datetime(2026, 11, 2, 7, 40, tzinfo=tz.utc)


@pytest.fixture
def incident(manager, contoso):
    case = case_in_stage(Case.Status.DIAGNOSING, manager=manager, detected_at=DETECTED)
    AffectedCustomerFactory(case=case, by=manager, organization=contoso)
    return case


def later(hours: int) -> datetime:
    return (timezone.now() + timedelta(hours=hours)).replace(second=0, microsecond=0)


def publish(case, by, approver, **fields):
    update = communications.draft_update(case=case, by=by, public_title=fields.pop("public_title", "Storage exposure"),
                                         what_happened="Objects were read.", **fields)
    return communications.approve_update(update=update, by=approver)


def test_the_case_edit_form_saves_the_impact_window(client, manager, incident):
    client.force_login(manager)
    form = {"version": incident.version, "title": incident.title, "source": incident.source, "severity": incident.severity,
            "classification": incident.classification, "breach_category": incident.breach_category, "scope": incident.scope,
            "internal_summary": "", "impact_started_at": "2026-11-02T06:15", "impact_ended_at": ""}
    assert client.post(reverse("cases:edit", args=[incident.reference]), form).status_code == 302
    incident.refresh_from_db()
    assert incident.impact_started_at == STARTED and incident.impact_ended_at is None
    page = client.get(reverse("cases:edit", args=[incident.reference])).content.decode()
    assert 'value="2026-11-02T06:15"' in page, "the form shows the saved time, so saving again keeps it"


def test_the_case_edit_form_refuses_an_end_before_the_start(client, manager, incident):
    client.force_login(manager)
    form = {"version": incident.version, "title": incident.title, "source": incident.source, "breach_category": incident.breach_category,
            "impact_started_at": "2026-11-02 06:15", "impact_ended_at": "2026-11-01 06:15"}
    response = client.post(reverse("cases:edit", args=[incident.reference]), form, follow=True)
    assert "The impact cannot end before it started." in response.content.decode()
    incident.refresh_from_db()
    assert incident.impact_started_at is None


def test_the_draft_form_starts_from_the_cases_times_and_promises_nothing(client, manager, comms, incident):
    case_services.update_case_details(case=incident, by=manager, changes={"impact_started_at": STARTED})
    publish(incident, manager, comms, next_update_by=later(2))
    client.force_login(manager)
    page = client.get(reverse("cases:update-new", args=[incident.reference])).content.decode()
    assert 'name="impact_started_at" value="2026-11-02T06:15"' in page and 'name="detected_at" value="2026-11-02T07:40"' in page
    assert 'name="next_update_by" value=' not in page, "each update promises its own next update"


def test_the_draft_form_saves_the_promise_and_refuses_one_in_the_past(client, manager, incident):
    client.force_login(manager)
    url = reverse("cases:update-new", args=[incident.reference])
    form = {"status": "investigating", "public_title": "Storage exposure", "what_happened": "Objects were read.",
            "impact_started_at": "2026-11-02 06:15", "next_update_by": "2020-01-01 00:00"}
    response = client.post(url, form)
    assert response.status_code == 400 and "next update time has passed" in response.content.decode()
    assert 'name="next_update_by" value="2020-01-01 00:00"' in response.content.decode(), "what was typed is kept"
    promise = later(3)
    assert client.post(url, {**form, "next_update_by": f"{promise:%Y-%m-%d %H:%M}"}).status_code == 302
    assert IncidentUpdate.objects.get(case=incident).next_update_by == promise


def test_an_unreadable_time_is_a_form_error_not_a_500(client, manager, incident):
    client.force_login(manager)
    response = client.post(reverse("cases:update-new", args=[incident.reference]),
                           {"status": "investigating", "public_title": "T", "what_happened": "W", "next_update_by": "tomorrow-ish"})
    assert response.status_code == 400 and "Enter the date and time as YYYY-MM-DD HH:MM (UTC)" in response.content.decode()


def test_the_review_page_shows_the_times_the_approver_publishes(client, manager, comms, incident):
    promise = later(5)
    update = communications.draft_update(case=incident, by=manager, public_title="T", what_happened="W", impact_started_at=STARTED,
                                         detected_at=DETECTED, next_update_by=promise)
    client.force_login(comms)
    page = client.get(reverse("cases:update-review", args=[incident.reference, update.pk])).content.decode()
    assert 'data-testid="impact-started">2026-11-02 06:15 UTC' in page and 'data-testid="impact-ended">Ongoing' in page
    assert f"Next update by {promise:%Y-%m-%d %H:%M} UTC" in page and 'data-testid="next-update-overdue"' not in page
    assert "Next update by (UTC)" in page, "the diff lists the promised time too"


def test_the_portal_shows_the_window_detection_and_next_update(client, manager, comms, contoso_user, incident):
    promise = later(6)
    publish(incident, manager, comms, impact_started_at=STARTED, detected_at=DETECTED,
            impact_ended_at=datetime(2026, 11, 3, 9, 0, tzinfo=tz.utc), next_update_by=promise)
    client.force_login(contoso_user)
    page = client.get(reverse("portal:incident", args=[incident.reference])).content.decode()
    assert 'data-testid="impact-started">2026-11-02 06:15 UTC' in page and 'data-testid="detected-at">2026-11-02 07:40 UTC' in page
    assert 'data-testid="impact-ended">2026-11-03 09:00 UTC' in page
    assert f"Next update by {promise:%Y-%m-%d %H:%M} UTC" in page and "overdue" not in page


def test_the_portal_marks_a_missed_promise_overdue_until_a_newer_update(client, manager, comms, contoso_user, incident):
    update = publish(incident, manager, comms, next_update_by=later(1))
    IncidentUpdate.objects.filter(pk=update.pk).update(next_update_by=timezone.now() - timedelta(minutes=5))
    communications.add_repair_item(case=incident, by=manager, title="Move the page's cache key")  # a new timeline head
    client.force_login(contoso_user)
    page = client.get(reverse("portal:incident", args=[incident.reference])).content.decode()
    assert 'data-testid="next-update-overdue">overdue' in page
    publish(incident, manager, comms, public_title="Contained")
    page = client.get(reverse("portal:incident", args=[incident.reference])).content.decode()
    assert "Next update by" not in page and "overdue" not in page


def test_the_portal_says_ongoing_and_nothing_more_before_any_time_is_known(client, manager, comms, contoso_user, incident):
    publish(incident, manager, comms)
    client.force_login(contoso_user)
    page = client.get(reverse("portal:incident", args=[incident.reference])).content.decode()
    assert 'aria-labelledby="times-h"' not in page
    publish(incident, manager, comms, impact_started_at=STARTED)
    page = client.get(reverse("portal:incident", args=[incident.reference])).content.decode()
    assert 'data-testid="impact-ended">Ongoing' in page
