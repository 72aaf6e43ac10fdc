"""A new high or critical case nobody owns pages the on-call incident managers, by inbox and email."""

import pytest
from django.contrib.auth.models import Group

from cases.models import TimelineEvent
from cases.services.intake import ingest_alert
from cases.services.triage import promote_group
from notifications.models import Delivery, Notification
from notifications.services.on_call import ON_CALL_GROUP
from tests.cases.alerts.samples import alert_payload
from tests.factories import CaseFactory

Kind = Notification.Kind


def paged(case) -> dict[str, set[str]]:
    """Return, per channel, who was paged about ``case``."""
    rows = Delivery.objects.filter(notification__case=case, notification__dedupe_key=f"on_call_unowned:{case.pk}")
    found: dict[str, set[str]] = {}
    for channel, username in rows.values_list("channel", "user__username"):
        found.setdefault(channel, set()).add(username)
    return found


@pytest.mark.parametrize("severity", ["critical", "high"])
def test_every_incident_manager_is_paged_when_nobody_is_on_the_rota(responder, manager, second_manager, comms, severity):
    case = CaseFactory(by=responder, severity=severity, title="Root key used from a new country")

    assert paged(case) == {"inbox": {"manager", "manager2"}, "email": {"manager", "manager2"}}
    notification = Notification.objects.get(dedupe_key=f"on_call_unowned:{case.pk}")
    assert notification.title == f"New {severity} case nobody owns: {case.reference}"
    assert "Root key used from a new country" in notification.body
    assert notification.link == case.get_absolute_url()


def test_only_the_managers_on_the_rota_are_paged_when_it_has_any(responder, manager, second_manager):
    Group.objects.create(name=ON_CALL_GROUP).user_set.add(second_manager)

    case = CaseFactory(by=responder, severity="critical")

    assert paged(case) == {"inbox": {"manager2"}, "email": {"manager2"}}


@pytest.mark.parametrize("kwargs", [{"severity": "medium"}, {"severity": "low"}, {"severity": ""}])
def test_a_less_severe_case_pages_nobody(responder, manager, kwargs):
    case = CaseFactory(by=responder, **kwargs)
    assert paged(case) == {}


def test_a_case_opened_with_an_owner_pages_nobody(responder, manager):
    case = CaseFactory(by=responder, severity="critical", owner=responder)
    assert paged(case) == {}


def test_the_manager_who_opened_it_is_not_paged(manager, second_manager):
    case = CaseFactory(by=manager, severity="critical")
    assert paged(case) == {"inbox": {"manager2"}, "email": {"manager2"}}


def test_a_restricted_case_pages_no_manager_who_may_not_see_it(responder, manager):
    case = CaseFactory(by=responder, severity="critical", restricted=True)
    assert paged(case) == {}


def test_an_alert_group_promoted_without_an_owner_pages_the_managers(responder, manager):
    alert, _ = ingest_alert(payload=alert_payload(severity="critical"), by=responder)
    case = promote_group(group=alert.group, by=responder)

    assert paged(case) == {"inbox": {"manager"}, "email": {"manager"}}
    assert case.timeline.filter(kind=TimelineEvent.Kind.OPENED).exists()
