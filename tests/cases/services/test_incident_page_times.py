"""Issue 16, item 7: the impact window, detection time and the promised next update of an incident update."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cases.models import Case, IncidentUpdate, TimelineEvent
from cases.models.communications import next_update_overdue
from cases.models.exceptions import ActionRefused
from cases.services import cases as case_services
from cases.services import communications
from tests.factories import AffectedCustomerFactory, case_in_stage


@pytest.fixture
def incident(manager, contoso):
    case = case_in_stage(Case.Status.DIAGNOSING, manager=manager)
    AffectedCustomerFactory(case=case, by=manager, organization=contoso)
    return case


def draft(case, by, **times):
    return communications.draft_update(case=case, by=by, public_title="Storage exposure", what_happened="Objects were read.", **times)


def test_drafter_sets_the_times_and_the_approver_publishes_them(incident, manager, comms):
    now = timezone.now()
    times = {"impact_started_at": now - timedelta(hours=5), "detected_at": now - timedelta(hours=3),
             "next_update_by": now + timedelta(hours=4)}
    update = communications.approve_update(update=draft(incident, manager, **times), by=comms)
    update.refresh_from_db()
    assert {name: getattr(update, name) for name in times} == times and update.impact_ended_at is None


def test_a_next_update_time_in_the_past_is_refused_when_drafting(incident, manager):
    with pytest.raises(ActionRefused, match="next update time has passed"):
        draft(incident, manager, next_update_by=timezone.now() - timedelta(minutes=1))
    assert not IncidentUpdate.objects.filter(case=incident).exists()


def test_a_draft_whose_next_update_time_passed_is_not_approved(incident, manager, comms):
    update = draft(incident, manager, next_update_by=timezone.now() + timedelta(hours=1))
    IncidentUpdate.objects.filter(pk=update.pk).update(next_update_by=timezone.now() - timedelta(minutes=1))
    with pytest.raises(ActionRefused, match="next update time has passed"):
        communications.approve_update(update=IncidentUpdate.objects.get(pk=update.pk), by=comms)
    update.refresh_from_db()
    assert update.published_at is None and update.approved_by is None
    assert not incident.timeline.filter(kind=TimelineEvent.Kind.UPDATE_PUBLISHED).exists()


@pytest.mark.parametrize("started, ended, reason", [
    (-1, -2, "cannot end before it started"),
    (None, -1, "before saying when it ended"),
    (+1, None, "cannot be in the future"),
])
def test_an_impossible_impact_window_is_refused(incident, manager, started, ended, reason):
    now = timezone.now()
    at = {key: now + timedelta(hours=value) for key, value in (("impact_started_at", started), ("impact_ended_at", ended)) if value is not None}
    with pytest.raises(ActionRefused, match=reason):
        draft(incident, manager, **at)
    with pytest.raises(ActionRefused, match=reason):
        case_services.update_case_details(case=incident, by=manager, changes=at)


def test_detection_in_the_future_is_refused(incident, manager):
    with pytest.raises(ActionRefused, match="Detection cannot be in the future"):
        draft(incident, manager, detected_at=timezone.now() + timedelta(hours=1))


def test_the_case_keeps_its_impact_window_with_a_timeline_row(incident, manager):
    started = timezone.now() - timedelta(days=1)
    case_services.update_case_details(case=incident, by=manager, changes={"impact_started_at": started})
    incident.refresh_from_db()
    assert incident.impact_started_at == started and incident.impact_ended_at is None
    event = incident.timeline.filter(kind=TimelineEvent.Kind.DETAILS_CHANGED).latest("sequence")
    assert "impact started" in event.text and "impact_started_at" in event.data


def test_the_published_review_refuses_the_same_impossible_window(incident, manager):
    now = timezone.now()
    with pytest.raises(ActionRefused, match="cannot end before it started"):
        communications.save_published_review(case=incident, by=manager, title="R", impact_started_at=now - timedelta(hours=1),
                                             impact_ended_at=now - timedelta(hours=2), who_was_affected="W", what_happened="H",
                                             what_went_wrong="G", how_we_responded="R")


def test_the_promised_update_is_overdue_only_after_its_time():
    now = timezone.now()
    assert next_update_overdue(now - timedelta(seconds=1), now=now)
    assert not next_update_overdue(now + timedelta(seconds=1), now=now)
    assert not next_update_overdue(None, now=now)
