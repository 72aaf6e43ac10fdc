"""Every regulatory clock gets the reminders: 24 h, 4 h, 1 h before it is due, and when overdue."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cases.models import Case, ClockDecision, Deadline
from cases.services import clocks
from notifications.models import Notification
from notifications.services.reminders import remind_deadlines
from tests.factories import case_in_stage


@pytest.mark.parametrize("minutes_left,stage", [(50, "1h"), (90, "4h"), (-5, "overdue")])
def test_a_gdpr_clock_gets_the_reminder_of_its_stage(manager, minutes_left, stage):
    case = case_in_stage(Case.Status.DIAGNOSING, manager=manager)
    now = timezone.now()
    Deadline.objects.create(case=case, kind=Deadline.Kind.GDPR_ART33, started_at=now - timedelta(hours=70),
                            due_at=now + timedelta(minutes=minutes_left))
    assert remind_deadlines(now=now) == 1
    reminder = Notification.objects.get(kind=Notification.Kind.DEADLINE_REMINDER)
    assert reminder.dedupe_key.split(":")[2] == stage
    assert "GDPR Art. 33" in reminder.title


def test_a_clock_started_by_a_decision_reminds_through_every_stage_once(manager):
    case = case_in_stage(Case.Status.DIAGNOSING, manager=manager)
    clocks.record_decision(case=case, by=manager, kind=ClockDecision.Kind.SIGNIFICANT_INCIDENT, note="Significant.")
    due = case.deadlines.get().due_at
    stages = []
    for before in (timedelta(hours=23), timedelta(hours=3), timedelta(minutes=30), -timedelta(minutes=1)):
        assert remind_deadlines(now=due - before) == 1
        assert remind_deadlines(now=due - before) == 0
        stages.append(Notification.objects.latest("id").dedupe_key.split(":")[2])
    assert stages == ["24h", "4h", "1h", "overdue"]
