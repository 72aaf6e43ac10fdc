"""The in-app inbox, preferences, the staff deliveries page, and deadline reminders."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import Case, Deadline
from notifications.models import Delivery, Notification, Preference
from notifications.services import outbox
from notifications.services.reminders import remind_deadlines
from tests.factories import case_in_stage
from tests.notifications.conftest import publish_update

Kind = Notification.Kind


def test_inbox_lists_only_my_notifications_with_the_unread_count_in_the_nav(client, manager, responder):
    outbox.notify_staff(kind=Kind.DEADLINE_REMINDER, users=[manager], title="For the manager")
    outbox.notify_staff(kind=Kind.DEADLINE_REMINDER, users=[responder], title="For the responder")
    client.force_login(manager)
    page = client.get(reverse("notifications:inbox")).content.decode()
    assert "For the manager" in page and "For the responder" not in page
    assert 'aria-label="1 unread"' in client.get(reverse("cases:dashboard")).content.decode()
    entry = Delivery.objects.get(user=manager, channel="inbox")
    assert client.post(reverse("notifications:read", args=[entry.pk])).status_code == 302
    entry.refresh_from_db()
    assert entry.read_at is not None
    assert 'unread"' not in client.get(reverse("cases:dashboard")).content.decode()


def test_nobody_marks_someone_elses_notification_read(client, manager, responder):
    outbox.notify_staff(kind=Kind.DEADLINE_REMINDER, users=[manager], title="Mine")
    entry = Delivery.objects.get(user=manager, channel="inbox")
    client.force_login(responder)
    assert client.post(reverse("notifications:read", args=[entry.pk])).status_code == 404
    entry.refresh_from_db()
    assert entry.read_at is None


def test_customer_sees_the_breach_notice_in_the_inbox_and_sets_preferences(client, breach_case, comms, contoso_user):
    publish_update(breach_case, comms=comms)
    client.force_login(contoso_user)
    page = client.get(reverse("notifications:inbox")).content.decode()
    assert breach_case.reference in page and f"/portal/incidents/{breach_case.reference}/" in page
    assert 'aria-label="1 unread"' in page
    response = client.post(reverse("notifications:preferences"), {"email_incident_updates": "on"})
    assert response.status_code == 302
    assert Preference.objects.get(user=contoso_user).email_incident_updates is True
    assert client.post(reverse("notifications:read-all")).status_code == 302
    assert not Delivery.objects.filter(user=contoso_user, read_at__isnull=True).exists()


def test_manager_sees_deliveries_with_error_history_and_retries(client, manager, breach_case, comms, settings):
    publish_update(breach_case, comms=comms)
    row = Delivery.objects.filter(notification__kind=Kind.BREACH_NOTICE, channel="email").first()
    client.force_login(manager)
    assert row.address in client.get(reverse("notifications:deliveries"), {"status": "pending"}).content.decode()
    assert client.get(reverse("notifications:delivery", args=[row.pk])).status_code == 200
    Delivery.objects.filter(pk=row.pk).update(status="dead", attempts=10, last_error="Connection refused")
    response = client.post(reverse("notifications:delivery-retry", args=[row.pk]))
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.status == "pending" and row.attempts == 0
    assert "Retry requested by manager" in client.get(reverse("notifications:delivery", args=[row.pk])).content.decode()


@pytest.mark.parametrize("hours_left,stage", [(30, None), (20, "24h"), (3, "4h"), (-1, "overdue")])
def test_deadline_reminders_go_to_the_owner_and_every_manager_once_per_stage(manager, second_manager, responder, hours_left, stage):
    from cases.services import cases as case_services

    case = case_in_stage(Case.Status.DIAGNOSING, manager=manager)
    case_services.add_member(case=case, by=manager, user=responder)
    case_services.assign_owner(case=case, by=manager, owner=responder)
    now = timezone.now()
    Deadline.objects.create(case=case, kind=Deadline.Kind.CUSTOMER_NOTICE, started_at=now - timedelta(hours=40),
                            due_at=now + timedelta(hours=hours_left))
    assert remind_deadlines(now=now) == (1 if stage else 0)
    assert remind_deadlines(now=now) == 0  # once per stage
    if stage:
        reminder = Notification.objects.get(kind=Kind.DEADLINE_REMINDER)
        assert reminder.dedupe_key.split(":")[2] == stage
        users = set(reminder.deliveries.filter(channel="inbox").values_list("user__username", flat=True))
        assert users == {"responder", "manager", "manager2"}


def test_met_deadlines_get_no_reminder(manager):
    case = case_in_stage(Case.Status.DIAGNOSING, manager=manager)
    now = timezone.now()
    Deadline.objects.create(case=case, kind=Deadline.Kind.CUSTOMER_NOTICE, started_at=now, due_at=now - timedelta(hours=1), met_at=now)
    assert remind_deadlines(now=now) == 0
