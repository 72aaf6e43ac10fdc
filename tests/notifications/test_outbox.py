"""Notifications and deliveries are written with the event, to the right people, in bounded queries."""

import math

import pytest
from django.db import connection, transaction

from cases.models import AffectedCustomer, Case, Organization
from cases.services import breach, communications
from notifications.models import Delivery, Notification
from notifications.services import outbox
from tests.factories import CustomerUserFactory, StaffFactory, case_in_stage
from tests.notifications.conftest import publish_update

Kind = Notification.Kind
Channel = Delivery.Channel


def breach_emails(case):
    return Delivery.objects.filter(notification__case=case, notification__kind=Kind.BREACH_NOTICE, channel=Channel.EMAIL)


def test_breach_declared_then_update_approved_writes_one_breach_notice_per_contact(breach_case, comms, contoso, fabrikam):
    assert not breach_emails(breach_case).exists()  # no customer text yet
    publish_update(breach_case, comms=comms)
    rows = breach_emails(breach_case)
    assert sorted(rows.values_list("address", flat=True)) == ["security@contoso.example", "security@fabrikam.example"]
    assert set(rows.values_list("status", flat=True)) == {Delivery.Status.PENDING}
    # The update did not also go out as a plain update to the organisations it noticed.
    assert not Delivery.objects.filter(notification__kind=Kind.INCIDENT_UPDATE, channel=Channel.EMAIL).exists()


def test_update_approved_then_breach_declared_writes_the_breach_notice(manager, comms, contoso):
    case = case_in_stage(Case.Status.STABILIZING, manager=manager)
    row = breach.add_affected_customer(case=case, by=manager, organization=contoso, data_lost=True, impact_statement="Lost.")
    breach.confirm_affected_customer(row=row, by=comms)
    publish_update(case, comms=comms)
    assert not breach_emails(case).exists()
    assert Delivery.objects.filter(notification__kind=Kind.INCIDENT_UPDATE, address="security@contoso.example").exists()
    breach.declare_breach(case=case, by=manager, note="Confirmed.")
    assert list(breach_emails(case).values_list("address", flat=True)) == ["security@contoso.example"]


def test_second_update_is_a_plain_update_not_a_second_breach_notice(breach_case, comms):
    publish_update(breach_case, comms=comms)
    publish_update(breach_case, comms=comms, title="Follow-up")
    assert breach_emails(breach_case).count() == 2
    assert Delivery.objects.filter(notification__kind=Kind.INCIDENT_UPDATE, channel=Channel.EMAIL).count() == 2


def test_breach_notice_falls_back_to_customer_users_without_security_contacts(manager, comms):
    org = Organization.objects.create(name="Northwind", slug="northwind", security_contacts="")
    CustomerUserFactory(username="nw1", organization=org, email="alice@northwind.example")
    case = case_in_stage(Case.Status.STABILIZING, manager=manager)
    row = breach.add_affected_customer(case=case, by=manager, organization=org, data_disclosed=True)
    breach.confirm_affected_customer(row=row, by=comms)
    breach.declare_breach(case=case, by=manager, note="Confirmed.")
    publish_update(case, comms=comms)
    assert list(breach_emails(case).values_list("address", flat=True)) == ["alice@northwind.example"]


def test_every_customer_user_gets_an_inbox_entry_and_subscribers_get_email(breach_case, comms, contoso_user, fabrikam_user):
    from notifications.models import Preference

    Preference.objects.create(user=contoso_user, email_incident_updates=True)
    publish_update(breach_case, comms=comms)
    assert Delivery.objects.filter(user=contoso_user, channel=Channel.INBOX, notification__kind=Kind.BREACH_NOTICE).exists()
    assert Delivery.objects.filter(user=fabrikam_user, channel=Channel.INBOX).exists()
    publish_update(breach_case, comms=comms, title="Follow-up")
    update_emails = Delivery.objects.filter(notification__kind=Kind.INCIDENT_UPDATE, channel=Channel.EMAIL)
    assert contoso_user.email in set(update_emails.values_list("address", flat=True))
    # Fabrikam's data was altered too: its users get the follow-ups by default (issue 16, item 2).
    assert fabrikam_user.email in set(update_emails.values_list("address", flat=True))


def test_follow_ups_of_a_breach_are_emailed_by_default_unless_turned_off(manager, breach_case, comms, contoso_user, fabrikam_user):
    from notifications.models import Preference
    from tests.factories import AffectedCustomerFactory, OrganizationFactory

    Preference.objects.create(user=fabrikam_user, email_updates_of_breaches=False)
    bystander = CustomerUserFactory(organization=OrganizationFactory(name="Northwind", slug="northwind"))
    AffectedCustomerFactory(case=breach_case, by=manager, organization=bystander.organization, data_disclosed=False,
                            impact_statement="Not affected; we checked.")
    publish_update(breach_case, comms=comms)
    publish_update(breach_case, comms=comms, title="Follow-up")
    emailed = set(Delivery.objects.filter(notification__kind=Kind.INCIDENT_UPDATE, channel=Channel.EMAIL).values_list("address", flat=True))
    assert contoso_user.email in emailed
    assert fabrikam_user.email not in emailed  # turned off
    assert bystander.email not in emailed  # its data was not affected: still opt-in


def test_notification_rolls_back_with_the_event(breach_case, comms):
    author = StaffFactory()
    from cases.services import cases as case_services

    case_services.add_member(case=breach_case, by=breach_case.owner, user=author)
    update = communications.draft_update(case=breach_case, by=author, public_title="T", what_happened="W")
    before = Delivery.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        communications.approve_update(update=update, by=comms)
        raise RuntimeError("the request failed after the change")
    assert Delivery.objects.count() == before
    assert not Notification.objects.filter(kind=Kind.BREACH_NOTICE).exists()


def test_deliveries_are_queued_only_after_commit(breach_case, comms, django_capture_on_commit_callbacks, monkeypatch):
    queued = []
    monkeypatch.setattr("notifications.services.queue.enqueue_deliveries", lambda ids, **kw: queued.extend(ids))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        publish_update(breach_case, comms=comms)
    assert queued == []
    for callback in callbacks:
        callback()
    assert set(queued) >= set(breach_emails(breach_case).values_list("pk", flat=True))


def test_staff_are_told_of_assignment_membership_and_approval_requests(manager, responder, comms):
    from cases.services import cases as case_services

    case = case_in_stage(Case.Status.ASSESSING, manager=manager)
    case_services.add_member(case=case, by=manager, user=responder)
    case_services.assign_owner(case=case, by=manager, owner=responder)
    kinds = set(Notification.objects.filter(deliveries__user=responder).values_list("kind", flat=True))
    assert {Kind.MEMBER_ADDED, Kind.CASE_ASSIGNED} <= kinds
    communications.draft_update(case=case, by=responder, public_title="T", what_happened="W")
    approvers = set(Delivery.objects.filter(notification__kind=Kind.APPROVAL_REQUESTED, channel=Channel.INBOX)
                    .values_list("user__username", flat=True))
    assert {"comms", "manager"} <= approvers and "responder" not in approvers


def test_staff_who_cannot_see_a_restricted_case_are_not_told_about_it(manager, responder):
    from tests.factories import ManagerFactory

    outsider = ManagerFactory(username="other-manager")
    case = case_in_stage(Case.Status.ASSESSING, manager=manager, restricted=True)
    notice = outbox.notify_staff(kind=Kind.DEADLINE_REMINDER, users=[manager, outsider], case=case, title="Due soon")
    assert set(notice.deliveries.values_list("user__username", flat=True)) == {"manager"}


@pytest.mark.parametrize("orgs", [50, 5000])
def test_breach_notice_to_thousands_of_organisations_takes_the_same_queries_plus_insert_batches(manager, orgs, django_assert_num_queries):
    case = case_in_stage(Case.Status.STABILIZING, manager=manager)
    Organization.objects.bulk_create(
        Organization(name=f"Org {i}", slug=f"org-{i}", security_contacts=f"sec@org{i}.example\nciso@org{i}.example")
        for i in range(orgs)
    )
    AffectedCustomer.objects.bulk_create(
        AffectedCustomer(case=case, organization=org, data_disclosed=True, added_by=manager, confirmed_at=case.detected_at)
        for org in Organization.objects.filter(slug__startswith="org-")
    )
    Case.objects.filter(pk=case.pk).update(breach_declared_at=case.detected_at)
    case.refresh_from_db()
    update = case.updates.create(public_title="T", what_happened="W", author=manager, published_at=case.detected_at)
    fields = [f for f in Delivery._meta.concrete_fields]
    batches = math.ceil(2 * orgs / (connection.ops.bulk_batch_size(fields, [None] * 2 * orgs) or 1))
    # Fixed reads and the notification row, plus the delivery INSERT batches (one on PostgreSQL).
    with django_assert_num_queries(5 + batches):
        outbox.notify_breach(case=case, update=update)
    assert Delivery.objects.filter(channel=Channel.EMAIL).count() == 2 * orgs


def test_seed_demo_runs_twice_and_contoso_gets_its_breach_notice(db):
    from django.core.management import call_command

    call_command("seed_demo", password="demo-password-123")
    call_command("seed_demo", password="demo-password-123")
    addresses = sorted(Delivery.objects.filter(notification__kind=Kind.BREACH_NOTICE, channel=Channel.EMAIL)
                       .values_list("address", flat=True))
    # A list, not a set: the second run must not queue the notices again.
    assert addresses == ["ciso@contoso.example", "security@contoso.example"]
    assert Notification.objects.filter(kind=Kind.BREACH_NOTICE).count() == 1
    assert not Delivery.objects.filter(organization__slug="fabrikam", notification__kind=Kind.BREACH_NOTICE).exists()
