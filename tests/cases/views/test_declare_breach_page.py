"""The declare-breach page shows details that disagree with a breach and asks before declaring with them."""

import pytest
from django.urls import reverse

from cases.models import Case, TimelineEvent
from cases.services import cases as case_services
from tests.factories import AffectedCustomerFactory, case_in_stage

pytestmark = pytest.mark.django_db


@pytest.fixture
def diagnosing(manager, contoso):
    """A diagnosing case (severity High, no breach category) with a customer whose data was disclosed."""
    case = case_in_stage(Case.Status.DIAGNOSING, manager=manager)
    AffectedCustomerFactory(case=case, by=manager, organization=contoso, data_disclosed=True)
    return case


def url(case):
    return reverse("cases:declare-breach", args=[case.reference])


def post(client, case, **fields):
    return client.post(url(case), {"version": case.version, "note": "Reads confirmed in the access logs.", "confirm": "on", **fields})


def test_the_page_shows_each_detail_that_disagrees_and_offers_to_fix_it(client, manager, diagnosing):
    client.force_login(manager)
    html = client.get(url(diagnosing)).content.decode()
    assert 'data-conflict="severity_not_critical"' in html and 'data-conflict="no_breach_category"' in html
    assert 'name="raise_severity"' in html and 'name="breach_category"' in html and 'name="accept_conflicts"' in html


def test_consistent_details_ask_nothing(client, manager, diagnosing):
    case_services.update_case_details(case=diagnosing, by=manager, changes={
        "severity": Case.Severity.CRITICAL, "breach_category": Case.BreachCategory.PRIVACY})
    client.force_login(manager)
    html = client.get(url(diagnosing)).content.decode()
    assert "data-conflict=" not in html
    assert 'name="raise_severity"' not in html and 'name="accept_conflicts"' not in html


def test_declaring_with_disagreeing_details_and_no_answer_is_refused_with_the_reasons(client, manager, diagnosing):
    client.force_login(manager)
    response = post(client, diagnosing)
    assert response.status_code == 400
    assert "These details still disagree with a breach" in response.content.decode()
    assert "Reads confirmed in the access logs." in response.content.decode(), "the typed note is kept"
    diagnosing.refresh_from_db()
    assert diagnosing.breach_declared_at is None


def test_raising_severity_and_naming_the_category_declares_with_consistent_details(client, manager, diagnosing):
    client.force_login(manager)
    response = post(client, diagnosing, raise_severity="on", breach_category=Case.BreachCategory.PRIVACY)
    assert response.status_code == 302
    diagnosing.refresh_from_db()
    assert diagnosing.breach_declared_at is not None
    assert (diagnosing.severity, diagnosing.breach_category, diagnosing.classification) == (
        Case.Severity.CRITICAL, Case.BreachCategory.PRIVACY, Case.Classification.PRIVACY_BREACH)
    event = diagnosing.timeline.get(kind=TimelineEvent.Kind.BREACH_DECLARED)
    assert event.data["changed"] == {"severity": {"from": "high", "to": "critical"}, "breach_category": {"from": "none", "to": "privacy"}}
    assert event.data["conflicts_accepted"] == []


def test_declaring_anyway_records_what_disagreed(client, manager, diagnosing):
    client.force_login(manager)
    response = post(client, diagnosing, breach_category=Case.BreachCategory.INTEGRITY, accept_conflicts="on")
    assert response.status_code == 302
    diagnosing.refresh_from_db()
    assert diagnosing.severity == Case.Severity.HIGH and diagnosing.breach_category == Case.BreachCategory.INTEGRITY
    event = diagnosing.timeline.get(kind=TimelineEvent.Kind.BREACH_DECLARED)
    assert event.data["conflicts_accepted"] == ["severity_not_critical"]
    assert "Declared although: Severity is High" in event.text


def test_a_junk_category_is_a_form_error(client, manager, diagnosing):
    client.force_login(manager)
    response = post(client, diagnosing, breach_category="none", accept_conflicts="on")
    assert response.status_code == 400
    diagnosing.refresh_from_db()
    assert diagnosing.breach_declared_at is None
