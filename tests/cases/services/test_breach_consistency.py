"""A declared breach is Critical and names its category: the one rule (``Case.breach_detail_conflicts``) and the service."""

import pytest

from cases.models import Case, TimelineEvent
from cases.models.blockers import codes
from cases.models.exceptions import ActionRefused
from cases.services import breach
from cases.services import cases as case_services
from tests.factories import AffectedCustomerFactory, case_in_stage

pytestmark = pytest.mark.django_db
C = Case.BreachCategory


@pytest.fixture
def diagnosing(manager, contoso):
    case = case_in_stage(Case.Status.DIAGNOSING, manager=manager)  # severity High, no breach category
    AffectedCustomerFactory(case=case, by=manager, organization=contoso, data_disclosed=True)
    return case


def test_the_rule_names_each_disagreement_by_code(diagnosing):
    assert codes(diagnosing.breach_detail_conflicts()) == {"severity_not_critical", "no_breach_category"}
    assert diagnosing.breach_detail_conflicts(severity=Case.Severity.CRITICAL, breach_category=C.PROPRIETARY) == []


def test_a_privacy_classification_wants_the_privacy_category(diagnosing, manager):
    case = case_services.update_case_details(case=diagnosing, by=manager, changes={
        "severity": Case.Severity.CRITICAL, "classification": Case.Classification.PRIVACY_BREACH, "breach_category": C.INTEGRITY})
    assert codes(case.breach_detail_conflicts()) == {"classification_disagrees"}
    assert case.breach_detail_conflicts(breach_category=C.PRIVACY) == []


def test_the_service_refuses_disagreeing_details_when_told_to_and_records_the_refusal(diagnosing, manager):
    with pytest.raises(ActionRefused) as refused:
        breach.declare_breach(case=diagnosing, by=manager, note="Confirmed.", accept_conflicts=False)
    assert codes(refused.value.reasons) == {"severity_not_critical", "no_breach_category"}
    diagnosing.refresh_from_db()
    assert diagnosing.breach_declared_at is None
    assert diagnosing.timeline.filter(kind=TimelineEvent.Kind.REFUSED).exists()


def test_the_service_sets_the_chosen_details_under_the_lock(diagnosing, manager):
    declared = breach.declare_breach(case=diagnosing, by=manager, note="Confirmed.", accept_conflicts=False,
                                     severity=Case.Severity.CRITICAL, breach_category=C.PRIVACY)
    declared.refresh_from_db()
    assert (declared.severity, declared.breach_category, declared.classification) == (
        Case.Severity.CRITICAL, C.PRIVACY, Case.Classification.PRIVACY_BREACH)
    assert "Severity set to Critical. Breach category set to Privacy breach." in declared.timeline.get(
        kind=TimelineEvent.Kind.BREACH_DECLARED).text


def test_callers_that_do_not_ask_declare_and_the_timeline_records_what_disagreed(diagnosing, manager):
    declared = breach.declare_breach(case=diagnosing, by=manager, note="Confirmed.")
    event = declared.timeline.get(kind=TimelineEvent.Kind.BREACH_DECLARED)
    assert event.data["conflicts_accepted"] == ["severity_not_critical", "no_breach_category"]
    assert declared.classification == Case.Classification.CUSTOMER_REPORTABLE


def test_a_value_that_is_no_choice_is_refused(diagnosing, manager):
    with pytest.raises(ActionRefused, match="is not a severity"):
        breach.declare_breach(case=diagnosing, by=manager, note="Confirmed.", severity="apocalyptic")
