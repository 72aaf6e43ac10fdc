"""Breach notices: only a delivered notice or an approved out-of-band notice keeps the promise.

A free-text "notice sent" no longer exists; an out-of-band notice (phone, letter, another
system's email, a ticket) is recorded by an incident manager with who was reached, when and the
evidence, and counts only once a second person approves it.
"""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from cases.models.exceptions import ActionRefused, NotAllowed
from cases.models import AffectedCustomer, Case, Deadline, OutOfBandNotice, TimelineEvent
from cases.services import breach, notices
from notifications.guards import unnotified_customer_blockers
from tests.factories import AffectedCustomerFactory, case_in_stage

K = TimelineEvent.Kind


@pytest.fixture
def breached(manager, contoso):
    case = case_in_stage(Case.Status.DIAGNOSING, manager=manager)
    AffectedCustomerFactory(case=case, by=manager, organization=contoso)
    return breach.declare_breach(case=case, by=manager, note="Reads confirmed.")


def deadline(case):
    return Deadline.objects.get(case=case, kind=Deadline.Kind.CUSTOMER_NOTICE)


def record(case, by, **overrides):
    row = case.affected_customers.get()
    fields = {"channel": "phone", "person_reached": "Dana Ruiz, CISO", "reached_at": timezone.now(),
              "evidence_reference": "call log 2026-118", **overrides}
    return notices.record_out_of_band_notice(row=row, by=by, **fields)


def test_free_text_notice_does_not_meet_the_deadline(client, breached, manager):
    """The old "Record notice sent" form is gone: posting free text to it marks nothing."""
    row = breached.affected_customers.get()
    with pytest.raises(NoReverseMatch):
        reverse("cases:customer-notified", args=[breached.reference, row.pk])
    client.force_login(manager)
    response = client.post(f"/cases/{breached.reference}/customers/{row.pk}/notified/", {"reason": "Phoned their CISO."})
    assert response.status_code in (404, 405)
    assert AffectedCustomer.objects.get(pk=row.pk).notified_at is None
    assert not deadline(breached).is_met
    assert unnotified_customer_blockers(breached) == ["Breach notice not yet delivered to Contoso."]


def test_an_out_of_band_notice_meets_nothing_until_approved(breached, manager):
    notice = record(breached, manager)
    assert not notice.is_approved
    assert AffectedCustomer.objects.get(pk=notice.row_id).notified_at is None
    assert not deadline(breached).is_met
    assert unnotified_customer_blockers(breached)
    assert breached.timeline.order_by("-sequence").first().kind == K.NOTICE_RECORDED


def test_a_second_person_approves_and_the_deadline_is_met_by_out_of_band_notice(breached, manager, comms):
    notice = record(breached, manager)
    notices.approve_out_of_band_notice(notice=notice, by=comms)
    row = AffectedCustomer.objects.get(pk=notice.row_id)
    assert row.notified_at == notice.reached_at and row.notified_via == AffectedCustomer.NotifiedVia.OUT_OF_BAND
    met = deadline(breached)
    assert met.is_met and met.met_out_of_band
    last = breached.timeline.order_by("-sequence").first()
    assert last.kind == K.DEADLINE_MET and "met by out-of-band notice" in last.text
    assert unnotified_customer_blockers(breached) == []


def test_the_recorder_cannot_approve_their_own_notice(breached, manager):
    notice = record(breached, manager)
    with pytest.raises(ActionRefused, match="someone else"):
        notices.approve_out_of_band_notice(notice=notice, by=manager)
    assert not OutOfBandNotice.objects.get(pk=notice.pk).is_approved


def test_the_database_refuses_a_notice_approved_by_its_recorder(breached, manager):
    notice = record(breached, manager)
    with pytest.raises(IntegrityError), transaction.atomic():
        OutOfBandNotice.objects.filter(pk=notice.pk).update(approved_by=manager, approved_at=timezone.now())


def test_only_an_incident_manager_records_an_out_of_band_notice(breached, manager, responder, comms):
    from cases.services import cases as case_services

    case_services.add_member(case=breached, by=manager, user=responder)
    for person in (responder, comms):
        with pytest.raises(NotAllowed):
            record(breached, person)
    assert not OutOfBandNotice.objects.exists()


def test_a_responder_cannot_approve_an_out_of_band_notice(breached, manager, responder):
    from cases.services import cases as case_services

    case_services.add_member(case=breached, by=manager, user=responder)
    notice = record(breached, manager)
    with pytest.raises(NotAllowed):
        notices.approve_out_of_band_notice(notice=notice, by=responder)


def test_nothing_can_be_recorded_before_a_breach_is_declared(manager, contoso):
    case = case_in_stage(Case.Status.DIAGNOSING, manager=manager)
    AffectedCustomerFactory(case=case, by=manager, organization=contoso)
    with pytest.raises(ActionRefused, match="No breach is declared"):
        record(case, manager)
    assert not OutOfBandNotice.objects.exists()


def test_a_delivered_notice_is_ignored_before_a_breach_is_declared(manager, contoso):
    case = case_in_stage(Case.Status.DIAGNOSING, manager=manager)
    row = AffectedCustomerFactory(case=case, by=manager, organization=contoso)
    notices.record_customer_notified(row=row, how="email")
    assert AffectedCustomer.objects.get(pk=row.pk).notified_at is None


@pytest.mark.parametrize("field, value, message", [
    ("person_reached", " ", "Name the person"),
    ("evidence_reference", "", "evidence reference"),
    ("channel", "carrier pigeon", "Choose how"),
    ("reached_at", timezone.now() + timedelta(days=1), "future"),
    ("reached_at", timezone.now() - timedelta(days=30), "after the breach is declared"),
])
def test_an_out_of_band_notice_needs_channel_person_time_and_evidence(breached, manager, field, value, message):
    with pytest.raises(ActionRefused, match=message):
        record(breached, manager, **{field: value})
    assert not OutOfBandNotice.objects.exists()


def test_a_withdrawn_row_takes_no_out_of_band_notice(breached, manager):
    row = breached.affected_customers.get()
    breach.withdraw_affected_customer(row=row, by=manager, reason="Wrong organisation.")
    with pytest.raises(ActionRefused, match="withdrawn|does not await"):
        notices.record_out_of_band_notice(row=row, by=manager, channel="phone", person_reached="CISO",
                                          reached_at=timezone.now(), evidence_reference="x")


def test_a_delivered_notice_still_meets_the_deadline_without_out_of_band_label(breached):
    row = breached.affected_customers.get()
    notices.record_customer_notified(row=row, how="breach notice delivered by email to ciso@contoso.example")
    met = deadline(breached)
    assert met.is_met and not met.met_out_of_band
    assert AffectedCustomer.objects.get(pk=row.pk).notified_via == AffectedCustomer.NotifiedVia.DELIVERY


def test_the_case_page_labels_out_of_band_notices(client, breached, manager, comms):
    notices.approve_out_of_band_notice(notice=record(breached, manager), by=comms)
    client.force_login(manager)
    page = client.get(breached.get_absolute_url()).content.decode()
    assert "out-of-band notice" in page and "met by out-of-band notice" in page and "Dana Ruiz, CISO" in page


def test_the_views_record_and_approve_an_out_of_band_notice(client, breached, manager, comms):
    row = breached.affected_customers.get()
    client.force_login(manager)
    reached = timezone.now().strftime("%Y-%m-%d %H:%M")
    response = client.post(reverse("cases:notice-record", args=[breached.reference, row.pk]),
                           {"channel": "ticket", "person_reached": "Dana Ruiz, CISO", "reached_at": reached,
                            "evidence_reference": "SUP-4411"})
    assert response.status_code == 302
    notice = OutOfBandNotice.objects.get()
    client.force_login(comms)
    response = client.post(reverse("cases:notice-approve", args=[breached.reference, notice.pk]))
    assert response.status_code == 302
    assert deadline(breached).is_met
