"""Promote, attach and dismiss: each refuses a handled group, each case change is on the timeline."""

import pytest

from cases.models.exceptions import ActionRefused, NotAllowed
from cases.models import AlertGroup, Case, CaseObservable, OrganizationTenant, TimelineEvent
from cases.selectors.alerts import candidate_customers
from cases.services.intake import ingest_alert
from cases.services.triage import attach_group, dismiss_group, promote_group
from tests.cases.alerts.samples import alert_payload
from tests.factories import case_in_stage


@pytest.fixture
def group(responder, contoso):
    OrganizationTenant.objects.create(organization=contoso, kind="azure_subscription", tenant_id="8F2E6C1A-SUB")
    ingest_alert(payload=alert_payload(correlation_key="exfil", severity="medium", observed_at="2026-03-02T08:10:00Z",
                                       resources=["/subscriptions/8f2e6c1a-sub/resourceGroups/data"]), by=responder)
    alert, _ = ingest_alert(payload=alert_payload(correlation_key="exfil", severity="critical", observed_at="2026-03-02T08:00:00Z",
                                                  observables=[{"kind": "domain", "value": "drop.example"}]), by=responder)
    return alert.group


def test_responder_promotes_a_group_to_a_case_detected_at_the_first_alert(group, responder, contoso):
    case = promote_group(group=group, by=responder)
    assert case.source == Case.Source.ALERT and case.severity == "critical"
    assert case.detected_at.isoformat() == "2026-03-02T08:00:00+00:00"
    assert case.title == group.title and "2 alert(s)" in case.internal_summary
    group.refresh_from_db()
    assert group.status == AlertGroup.Status.PROMOTED and group.case == case and group.handled_by == responder
    assert set(CaseObservable.objects.filter(case=case).values_list("observable__value", flat=True)) == {"203.0.113.10", "drop.example"}
    kinds = list(case.timeline.values_list("kind", flat=True))
    assert kinds == [TimelineEvent.Kind.OPENED, TimelineEvent.Kind.ALERTS_PROMOTED]
    assert candidate_customers(case=case) == [contoso]


def test_promotion_grants_nothing_to_candidate_customers(group, responder, contoso):
    case = promote_group(group=group, by=responder)
    assert not case.affected_customers.exists()
    from cases.access.querysets import customer_incidents
    from tests.factories import CustomerUserFactory

    assert not customer_incidents(CustomerUserFactory(organization=contoso)).exists()


def test_a_group_is_promoted_only_once(group, responder, manager):
    promote_group(group=group, by=responder)
    with pytest.raises(ActionRefused):
        promote_group(group=group, by=manager)
    with pytest.raises(ActionRefused):
        dismiss_group(group=group, by=manager, reason="benign", note="Expected.")
    assert Case.objects.count() == 1


def test_comms_cannot_promote(group, comms):
    with pytest.raises(NotAllowed):
        promote_group(group=group, by=comms)
    assert not Case.objects.exists()


def test_member_attaches_a_group_to_an_open_case(group, responder, manager):
    case = case_in_stage(Case.Status.DIAGNOSING, manager=manager)
    from cases.services.cases import add_member

    add_member(case=case, by=manager, user=responder)
    attach_group(group=group, case=case, by=responder)
    group.refresh_from_db()
    assert group.status == AlertGroup.Status.ATTACHED and group.case == case
    assert case.timeline.filter(kind=TimelineEvent.Kind.ALERTS_ATTACHED).count() == 1
    assert CaseObservable.objects.filter(case=case).count() == 2


@pytest.mark.parametrize(("stage", "actor", "refusal"), [
    (Case.Status.DIAGNOSING, "other_responder", NotAllowed),  # no work rights on the case
    (Case.Status.CLOSED, "manager", ActionRefused),  # a closed case takes no alerts
], ids=["without-work-rights", "to-a-closed-case"])
def test_attach_is_refused_and_leaves_the_group_waiting(group, manager, request, stage, actor, refusal):
    case = case_in_stage(stage, manager=manager)
    with pytest.raises(refusal):
        attach_group(group=group, case=case, by=request.getfixturevalue(actor))
    group.refresh_from_db()
    assert group.status == AlertGroup.Status.NEW
    assert not case.timeline.filter(kind=TimelineEvent.Kind.ALERTS_ATTACHED).exists()


def test_dismissal_records_who_why_and_a_note(group, responder):
    dismiss_group(group=group, by=responder, reason="false_positive", note="Pen test window, ticket SEC-12.")
    group.refresh_from_db()
    assert (group.status, group.dismissal_reason, group.handled_by) == ("dismissed", "false_positive", responder)
    assert group.handled_at is not None and group.case is None


@pytest.mark.parametrize(("reason", "note"), [("bored", "x"), ("benign", "  ")])
def test_dismissal_without_a_valid_reason_and_note_is_refused(group, responder, reason, note):
    with pytest.raises(ActionRefused):
        dismiss_group(group=group, by=responder, reason=reason, note=note)
    group.refresh_from_db()
    assert group.status == AlertGroup.Status.NEW
