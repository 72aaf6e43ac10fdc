"""Inbox items clear themselves when their subject is done: approval given, case over, incident acknowledged."""

import pytest
from django.urls import reverse

from cases.models import Case
from cases.services import cases as case_services
from cases.services import communications, lifecycle
from cases.services.communications import acknowledge
from notifications import selectors
from notifications.models import Delivery, Notification
from notifications.services import outbox
from tests.factories import StaffFactory, case_in_stage
from tests.notifications.conftest import publish_update

pytestmark = pytest.mark.django_db


def draft(case, manager):
    author = StaffFactory()
    case_services.add_member(case=case, by=manager, user=author)
    return communications.draft_update(case=case, by=author, public_title="Reads of some buckets", what_happened="Objects were read.")


def entry_of(user, kind):
    return selectors.inbox(user).get(notification__kind=kind)


def test_an_approval_request_is_settled_once_the_draft_is_approved(client, manager, comms):
    case = case_in_stage(Case.Status.DIAGNOSING, manager=manager)
    update = draft(case, manager)
    assert not entry_of(comms, Notification.Kind.APPROVAL_REQUESTED).is_settled
    assert selectors.unread_count(comms) == 1
    communications.approve_update(update=update, by=comms)
    assert entry_of(comms, Notification.Kind.APPROVAL_REQUESTED).is_settled
    assert selectors.unread_count(comms) == 0
    client.force_login(comms)
    page = client.get(reverse("notifications:inbox")).content.decode()
    assert ">Done</span>" in page and "Mark read" not in page and 'aria-label="1 unread"' not in page


def test_a_newer_draft_does_not_settle_an_older_request_early(manager, comms):
    case = case_in_stage(Case.Status.DIAGNOSING, manager=manager)
    first = draft(case, manager)
    communications.approve_update(update=first, by=comms)
    draft(case, manager)
    kinds = [entry.is_settled for entry in selectors.inbox(comms).filter(notification__kind=Notification.Kind.APPROVAL_REQUESTED)]
    assert sorted(kinds) == [False, True], "the first request is done, the second still waits"


def test_everything_about_a_finished_case_is_settled(manager, responder):
    case = case_in_stage(Case.Status.ASSESSING, manager=manager)
    case_services.add_member(case=case, by=manager, user=responder)
    assert selectors.unread_count(responder) == 1
    lifecycle.dismiss_case(case=case, by=manager, reason=Case.DismissalReason.FALSE_POSITIVE, note="Benign.")
    assert entry_of(responder, Notification.Kind.MEMBER_ADDED).is_settled
    assert selectors.unread_count(responder) == 0


def test_a_customer_notice_is_settled_by_acknowledging_the_incident(breach_case, comms, contoso_user):
    publish_update(breach_case, comms=comms)
    assert selectors.unread_count(contoso_user) == 1
    acknowledge(case=breach_case, user=contoso_user)
    assert entry_of(contoso_user, Notification.Kind.BREACH_NOTICE).is_settled
    assert selectors.unread_count(contoso_user) == 0


def test_a_notice_without_a_case_never_settles_by_itself(manager):
    outbox.notify_staff(kind=Notification.Kind.DEADLINE_REMINDER, users=[manager], title="Check the clocks")
    [entry] = selectors.inbox(manager)
    assert not entry.is_settled and selectors.unread_count(manager) == 1
    assert Delivery.objects.get(pk=entry.pk).read_at is None, "settling is read from the data, never written"


def test_mark_read_is_a_visible_button(client, manager):
    outbox.notify_staff(kind=Notification.Kind.DEADLINE_REMINDER, users=[manager], title="Check the clocks")
    client.force_login(manager)
    page = client.get(reverse("notifications:inbox")).content.decode()
    assert '<button class="btn small" type="submit">Mark read</button>' in page
