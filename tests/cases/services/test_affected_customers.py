"""Affected organisations: a second person confirms before the organisation sees anything.

Adding, editing and withdrawing are ordinary, recorded changes a responder makes; access to
the incident page starts only when an incident manager or Communications (not the one who
added or edited the row) confirms it, and a withdrawal revokes it at once and reports who saw
what while it lasted.
"""

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from cases.access.querysets import customer_incidents
from cases.models.exceptions import ActionRefused, NotAllowed
from cases.models import AffectedCustomer, Case, IncidentPageView, Task, TimelineEvent
from cases.services import breach, communications
from cases.services import cases as case_services
from notifications.models import Delivery
from tests.factories import AffectedCustomerFactory, case_in_stage

K = TimelineEvent.Kind


@pytest.fixture
def contoso_case(manager, responder, comms, contoso):
    """Contoso's breach case: diagnosing, responder a member, Contoso confirmed, an update published."""
    case = case_in_stage(Case.Status.DIAGNOSING, manager=manager)
    case_services.add_member(case=case, by=manager, user=responder)
    AffectedCustomerFactory(case=case, by=manager, organization=contoso, impact_statement="Three Contoso objects were read.")
    update = communications.draft_update(case=case, by=responder, public_title="Storage exposure", what_happened="Objects were read.")
    communications.approve_update(update=update, by=comms)
    return case


def portal(client, user, case):
    client.force_login(user)
    return client.get(reverse("portal:incident", args=[case.reference]))


def test_responder_adding_fabrikam_does_not_expose_the_incident_until_confirmed(client, contoso_case, responder, comms, fabrikam, fabrikam_user):
    client.force_login(responder)
    response = client.post(reverse("cases:customer-add", args=[contoso_case.reference]),
                           {"organization": fabrikam.pk, "data_disclosed": "on", "impact_statement": "Fabrikam objects read."})
    assert response.status_code == 302
    row = AffectedCustomer.objects.get(case=contoso_case, organization=fabrikam)
    assert row.confirmed_at is None and row.added_by == responder
    assert portal(client, fabrikam_user, contoso_case).status_code == 404
    assert not customer_incidents(fabrikam_user).exists()
    page = client.get(reverse("portal:index")).content.decode()
    assert contoso_case.reference not in page
    breach.confirm_affected_customer(row=row, by=comms)
    assert portal(client, fabrikam_user, contoso_case).status_code == 200


def test_the_case_page_shows_a_new_row_as_awaiting_confirmation(client, contoso_case, responder, fabrikam):
    AffectedCustomerFactory(case=contoso_case, by=responder, organization=fabrikam, confirm=False)
    client.force_login(responder)
    page = client.get(contoso_case.get_absolute_url()).content.decode()
    assert "Awaiting confirmation" in page


def test_confirming_records_who_and_when_on_the_row_and_the_timeline(contoso_case, responder, comms, fabrikam):
    row = AffectedCustomerFactory(case=contoso_case, by=responder, organization=fabrikam, confirm=False)
    breach.confirm_affected_customer(row=row, by=comms)
    row.refresh_from_db()
    assert row.confirmed_by == comms and row.confirmed_at is not None
    event = contoso_case.timeline.order_by("-sequence").first()
    assert (event.kind, event.actor) == (K.CUSTOMER_CONFIRMED, comms)


def test_whoever_added_a_row_cannot_confirm_it(contoso_case, manager, fabrikam):
    row = AffectedCustomerFactory(case=contoso_case, by=manager, organization=fabrikam, confirm=False)
    with pytest.raises(ActionRefused, match="someone else"):
        breach.confirm_affected_customer(row=row, by=manager)
    assert AffectedCustomer.objects.get(pk=row.pk).confirmed_at is None


def test_whoever_last_edited_an_unconfirmed_row_cannot_confirm_it(contoso_case, responder, manager, fabrikam):
    row = AffectedCustomerFactory(case=contoso_case, by=responder, organization=fabrikam, confirm=False)
    breach.edit_affected_customer(row=row, by=manager, data_lost=True, data_altered=False, data_disclosed=True,
                                  impact_statement="Manager's words.")
    with pytest.raises(ActionRefused, match="someone else"):
        breach.confirm_affected_customer(row=row, by=manager)


def test_a_responder_cannot_confirm_a_row(contoso_case, manager, other_responder, responder, fabrikam):
    row = AffectedCustomerFactory(case=contoso_case, by=manager, organization=fabrikam, confirm=False)
    with pytest.raises(NotAllowed):
        breach.confirm_affected_customer(row=row, by=responder)


def test_the_database_refuses_a_row_confirmed_by_its_author(contoso_case, manager, fabrikam):
    row = AffectedCustomerFactory(case=contoso_case, by=manager, organization=fabrikam, confirm=False)
    with pytest.raises(IntegrityError), transaction.atomic():
        AffectedCustomer.objects.filter(pk=row.pk).update(confirmed_by=manager, confirmed_at=timezone.now())


def test_an_impact_statement_edit_after_confirmation_reaches_the_customer_only_when_confirmed(client, contoso_case, manager, comms, contoso, contoso_user):
    row = contoso_case.affected_customers.get(organization=contoso)
    breach.edit_affected_customer(row=row, by=manager, data_lost=False, data_altered=False, data_disclosed=True,
                                  impact_statement="Draft wording: every Contoso bucket was read.")
    row.refresh_from_db()
    assert row.impact_statement == "Three Contoso objects were read."
    assert row.pending_impact_statement == "Draft wording: every Contoso bucket was read."
    body = portal(client, contoso_user, contoso_case).content.decode()
    assert "Three Contoso objects were read." in body and "Draft wording" not in body
    with pytest.raises(ActionRefused, match="someone else"):
        breach.confirm_affected_customer(row=row, by=manager)
    breach.confirm_affected_customer(row=row, by=comms)
    body = portal(client, contoso_user, contoso_case).content.decode()
    assert "Draft wording: every Contoso bucket was read." in body


def test_every_edit_is_on_the_timeline(contoso_case, responder, contoso):
    row = contoso_case.affected_customers.get(organization=contoso)
    breach.edit_affected_customer(row=row, by=responder, data_lost=True, data_altered=False, data_disclosed=True,
                                  impact_statement=row.impact_statement)
    event = contoso_case.timeline.order_by("-sequence").first()
    assert event.kind == K.CUSTOMER_CHANGED and "data lost, disclosed" in event.text


def test_saving_a_row_with_no_data_impact_warns_but_saves(client, contoso_case, responder, fabrikam):
    client.force_login(responder)
    response = client.post(reverse("cases:customer-add", args=[contoso_case.reference]), {"organization": fabrikam.pk}, follow=True)
    assert AffectedCustomer.objects.filter(case=contoso_case, organization=fabrikam).exists()
    assert any(m.level_tag == "warning" and "No data impact" in m.message for m in response.context["messages"])


def test_withdrawing_after_the_declaration_revokes_access_at_once(client, contoso_case, manager, responder, contoso, contoso_user):
    breach.declare_breach(case=contoso_case, by=manager, note="Reads confirmed.")
    assert portal(client, contoso_user, contoso_case).status_code == 200
    row = contoso_case.affected_customers.get(organization=contoso)
    breach.withdraw_affected_customer(row=row, by=responder, reason="The reads were from Contoso's own account.")
    assert portal(client, contoso_user, contoso_case).status_code == 404
    row.refresh_from_db()
    assert (row.withdrawn_by, row.withdrawal_reason) == (responder, "The reads were from Contoso's own account.")
    assert AffectedCustomer.objects.filter(pk=row.pk).exists()


def test_a_withdrawn_row_that_was_seen_creates_a_privacy_task_naming_who_and_when(client, contoso_case, responder, contoso, contoso_user):
    portal(client, contoso_user, contoso_case)
    assert IncidentPageView.objects.filter(case=contoso_case, user=contoso_user).count() == 1
    portal(client, contoso_user, contoso_case)
    assert IncidentPageView.objects.filter(case=contoso_case, user=contoso_user).count() == 1
    row = contoso_case.affected_customers.get(organization=contoso)
    breach.withdraw_affected_customer(row=row, by=responder, reason="Wrong organisation.")
    row.refresh_from_db()
    assert [item["who"] for item in row.exposure] == [contoso_user.username]
    task = Task.objects.get(case=contoso_case, title__startswith="Privacy event")
    assert task.mandatory and task.title == f"Privacy event: handle exposure of {contoso_case.reference} to Contoso"
    client.force_login(responder)
    page = client.get(contoso_case.get_absolute_url()).content.decode()
    assert "Exposed while it had access" in page and contoso_user.username in page


def test_a_withdrawn_row_that_received_a_notice_lists_the_delivery(contoso_case, manager, responder, contoso, contoso_user):
    breach.declare_breach(case=contoso_case, by=manager, note="Reads confirmed.")
    delivery = Delivery.objects.filter(notification__case=contoso_case, organization=contoso).first()
    assert delivery is not None
    Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.DELIVERED, delivered_at=timezone.now())
    row = contoso_case.affected_customers.get(organization=contoso)
    breach.withdraw_affected_customer(row=row, by=responder, reason="Wrong organisation.")
    row.refresh_from_db()
    assert any("breach notice" in item["what"] for item in row.exposure)
    assert Task.objects.filter(case=contoso_case, title__startswith="Privacy event", mandatory=True).exists()


def test_withdrawal_cancels_notices_still_waiting_for_the_organisation(contoso_case, manager, responder, contoso):
    breach.declare_breach(case=contoso_case, by=manager, note="Reads confirmed.")
    row = contoso_case.affected_customers.get(organization=contoso)
    breach.withdraw_affected_customer(row=row, by=responder, reason="Wrong organisation.")
    waiting = Delivery.objects.filter(notification__case=contoso_case, organization=contoso)
    assert waiting.exists() and not waiting.filter(status=Delivery.Status.PENDING).exists()


def test_a_withdrawn_row_nobody_saw_creates_no_task(contoso_case, responder, fabrikam):
    row = AffectedCustomerFactory(case=contoso_case, by=responder, organization=fabrikam)
    breach.withdraw_affected_customer(row=row, by=responder, reason="Wrong organisation.")
    assert not Task.objects.filter(case=contoso_case, title__startswith="Privacy event").exists()
    assert "Nobody of the organisation saw the incident" in contoso_case.timeline.order_by("-sequence").first().text


def test_a_withdrawn_organisation_can_be_added_again(contoso_case, responder, fabrikam):
    row = AffectedCustomerFactory(case=contoso_case, by=responder, organization=fabrikam)
    breach.withdraw_affected_customer(row=row, by=responder, reason="Too early.")
    again = AffectedCustomerFactory(case=contoso_case, by=responder, organization=fabrikam, confirm=False)
    assert again.pk != row.pk and AffectedCustomer.objects.filter(case=contoso_case, organization=fabrikam).count() == 2


def test_the_queryset_answers_which_rows_count(contoso_case, responder, contoso, fabrikam):
    from tests.factories import OrganizationFactory

    pending = AffectedCustomerFactory(case=contoso_case, by=responder, organization=fabrikam, confirm=False)
    unaffected = AffectedCustomerFactory(case=contoso_case, by=responder, organization=OrganizationFactory(), data_disclosed=False)
    withdrawn = AffectedCustomerFactory(case=contoso_case, by=responder, organization=OrganizationFactory())
    breach.withdraw_affected_customer(row=withdrawn, by=responder, reason="Wrong.")
    rows = contoso_case.affected_customers
    contoso_row = rows.get(organization=contoso)
    assert set(rows.active()) == {contoso_row, pending, unaffected}
    assert set(rows.awaiting_confirmation()) == {pending}
    assert set(rows.confirmed()) == {contoso_row, unaffected}
    assert set(rows.confirmed().breached()) == {contoso_row}
    assert set(rows.awaiting_notice()) == {contoso_row}


def test_a_breach_row_awaiting_confirmation_blocks_closing(contoso_case, manager, responder, fabrikam):
    from notifications.guards import unnotified_customer_blockers

    AffectedCustomerFactory(case=contoso_case, by=responder, organization=fabrikam, confirm=False)
    declared = breach.declare_breach(case=contoso_case, by=manager, note="Reads confirmed.")
    reasons = unnotified_customer_blockers(declared)
    assert any("awaiting confirmation: Fabrikam" in reason for reason in reasons), reasons


def test_confirming_after_the_declaration_sends_the_breach_notice(contoso_case, manager, responder, comms, fabrikam):
    breach.declare_breach(case=contoso_case, by=manager, note="Reads confirmed.")
    row = AffectedCustomerFactory(case=contoso_case, by=responder, organization=fabrikam, confirm=False)
    fabrikam_notices = Delivery.objects.filter(notification__case=contoso_case, organization=fabrikam, notification__kind="breach_notice")
    assert not fabrikam_notices.exists()
    breach.confirm_affected_customer(row=row, by=comms)
    assert fabrikam_notices.exists()


def test_an_unconfirmed_organisation_gets_no_notice(contoso_case, manager, responder, fabrikam):
    AffectedCustomerFactory(case=contoso_case, by=responder, organization=fabrikam, confirm=False)
    breach.declare_breach(case=contoso_case, by=manager, note="Reads confirmed.")
    assert not Delivery.objects.filter(notification__case=contoso_case, organization=fabrikam).exists()


def test_confirm_withdraw_and_edit_refuse_get(client, contoso_case, manager, contoso):
    client.force_login(manager)
    row = contoso_case.affected_customers.get(organization=contoso)
    for name in ("cases:customer-confirm", "cases:customer-withdraw", "cases:customer-edit", "cases:notice-record"):
        assert client.get(reverse(name, args=[contoso_case.reference, row.pk])).status_code == 405


def test_a_row_of_another_case_is_a_404(client, contoso_case, manager, fabrikam):
    other = case_in_stage(Case.Status.DIAGNOSING, manager=manager)
    row = AffectedCustomerFactory(case=other, by=manager, organization=fabrikam, confirm=False)
    client.force_login(manager)
    response = client.post(reverse("cases:customer-withdraw", args=[contoso_case.reference, row.pk]), {"reason": "x"})
    assert response.status_code == 404
    assert not AffectedCustomer.objects.get(pk=row.pk).is_withdrawn


def test_page_views_are_recorded_only_for_customers_who_may_read_the_page(client, contoso_case, fabrikam_user):
    portal(client, fabrikam_user, contoso_case)
    assert not IncidentPageView.objects.exists()
