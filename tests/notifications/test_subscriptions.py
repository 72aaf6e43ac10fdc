"""Issue 16, item 2: subscriptions per incident and per affected service, by a customer and by their administrator."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from cases.models import SecurityEvent, Service
from notifications.models import Delivery, Notification, Subscription
from notifications.services import subscriptions
from tests.factories import CustomerUserFactory
from tests.notifications.conftest import publish_update

Kind = Notification.Kind
Channel = Delivery.Channel


def emailed(kind=Kind.INCIDENT_UPDATE) -> set[str]:
    return set(Delivery.objects.filter(notification__kind=kind, channel=Channel.EMAIL).values_list("address", flat=True))


@pytest.fixture
def contoso_admin(contoso):
    return CustomerUserFactory(username="contoso-admin", organization=contoso, is_customer_admin=True, email="admin@contoso.example")


@pytest.fixture
def noticed(breach_case, comms):
    """The breach case after its first update, the breach notice: its page is readable, so it can be chosen."""
    publish_update(breach_case, comms=comms)
    return breach_case


@pytest.fixture
def storage(breach_case):
    service = Service.objects.get_or_create(name="Subscribed Storage")[0]
    breach_case.affected_services.add(service)
    return service


def test_a_customer_silences_one_incidents_follow_ups_but_not_its_breach_notice(noticed, comms, contoso_user):
    subscriptions.set_subscriptions(by=contoso_user, target=noticed, mine=False)
    publish_update(noticed, comms=comms, title="Follow-up")
    assert contoso_user.email not in emailed(), "the follow-up the user turned off was emailed"
    assert "security@contoso.example" in emailed(Kind.BREACH_NOTICE) and "security@contoso.example" in emailed()
    # The inbox still has it: a subscription is about email only.
    assert Delivery.objects.filter(user=contoso_user, channel=Channel.INBOX, notification__kind=Kind.INCIDENT_UPDATE).exists()


def test_follow_ups_of_a_breach_stay_on_by_default(breach_case, comms, contoso_user):
    publish_update(breach_case, comms=comms)
    publish_update(breach_case, comms=comms, title="Follow-up")
    assert contoso_user.email in emailed()


def test_an_organisation_choice_silences_the_contacts_but_never_the_breach_notice(noticed, comms, contoso_admin, contoso_user):
    subscriptions.set_subscriptions(by=contoso_admin, target=noticed, mine=None, organization=False, set_organization=True)
    assert "security@contoso.example" in emailed(Kind.BREACH_NOTICE)
    publish_update(noticed, comms=comms, title="Follow-up")
    assert not {"security@contoso.example", contoso_user.email} & emailed()
    assert "security@fabrikam.example" in emailed(), "another organisation's choice is its own"
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.CUSTOMER_SETTINGS_CHANGED)
    assert noticed.reference in event.detail and "do not email" in event.detail


def test_the_users_own_choice_beats_the_organisations(noticed, comms, contoso_admin, contoso_user):
    subscriptions.set_subscriptions(by=contoso_admin, target=noticed, mine=None, organization=False, set_organization=True)
    subscriptions.set_subscriptions(by=contoso_user, target=noticed, mine=True)
    publish_update(noticed, comms=comms, title="Follow-up")
    assert contoso_user.email in emailed() and "security@contoso.example" not in emailed()


def test_a_service_subscription_brings_updates_of_a_non_breach_incident(manager, comms, contoso, contoso_user):
    from cases.models import Case
    from tests.factories import AffectedCustomerFactory, case_in_stage

    case = case_in_stage(Case.Status.STABILIZING, manager=manager)
    AffectedCustomerFactory(case=case, by=manager, organization=contoso, data_disclosed=False, impact_statement="We checked: not affected.")
    storage = Service.objects.get_or_create(name="Subscribed Storage")[0]
    case.affected_services.add(storage)
    publish_update(case, comms=comms)
    assert contoso_user.email not in emailed(), "opt-in without a choice"
    subscriptions.set_subscriptions(by=contoso_user, target=storage, mine=True)
    publish_update(case, comms=comms, title="Follow-up")
    assert contoso_user.email in emailed()


def test_an_incident_choice_beats_a_service_choice(noticed, storage, comms, contoso_user):
    subscriptions.set_subscriptions(by=contoso_user, target=storage, mine=True)
    subscriptions.set_subscriptions(by=contoso_user, target=noticed, mine=False)
    publish_update(noticed, comms=comms, title="Follow-up")
    assert contoso_user.email not in emailed()


def test_choosing_the_default_again_removes_the_choice(noticed, contoso_user):
    subscriptions.set_subscriptions(by=contoso_user, target=noticed, mine=False)
    subscriptions.set_subscriptions(by=contoso_user, target=noticed, mine=None)
    assert not Subscription.objects.exists()


def test_only_administrators_choose_for_the_organisation(noticed, contoso_user):
    with pytest.raises(PermissionDenied):
        subscriptions.set_subscriptions(by=contoso_user, target=noticed, mine=None, organization=False, set_organization=True)
    assert not Subscription.objects.exists()


def test_nobody_subscribes_to_another_organisations_incident(noticed):
    from cases.models import Organization

    outsider = CustomerUserFactory(organization=Organization.objects.create(name="Northwind", slug="northwind"))
    with pytest.raises(PermissionDenied):
        subscriptions.set_subscriptions(by=outsider, target=noticed, mine=True)
    assert not Subscription.objects.exists()


def test_staff_have_no_subscriptions(noticed, manager):
    with pytest.raises(PermissionDenied):
        subscriptions.set_subscriptions(by=manager, target=noticed, mine=True)


def test_the_outbox_reads_the_choices_in_one_query(breach_case, storage, contoso_user, django_assert_num_queries):
    subscriptions.set_subscriptions(by=contoso_user, target=storage, mine=True)
    with django_assert_num_queries(1):
        choices = subscriptions.choices_for(breach_case.pk, [contoso_user.organization_id])
    assert choices.for_user(contoso_user) is True and choices.for_organization(contoso_user.organization_id) is None


# -- the pages ----------------------------------------------------------------------------

def test_the_preferences_page_lists_the_organisations_incidents_and_the_services(client, breach_case, storage, comms, contoso_user):
    publish_update(breach_case, comms=comms)
    client.force_login(contoso_user)
    page = client.get(reverse("notifications:preferences")).content.decode()
    assert f'data-testid="subscription-incident-{breach_case.reference}"' in page
    assert f'data-testid="subscription-service-{storage.pk}"' in page
    assert "Unauthorised read access to some buckets" in page and breach_case.title not in page, "the internal case title stays internal"
    assert 'name="organization"' not in page, "only administrators choose for the organisation"


def test_a_customer_saves_a_choice_from_the_incident_page(client, breach_case, comms, contoso_user):
    publish_update(breach_case, comms=comms)
    client.force_login(contoso_user)
    page = client.get(reverse("portal:incident", args=[breach_case.reference])).content.decode()
    assert 'aria-labelledby="subscription-h"' in page
    response = client.post(reverse("notifications:subscription"), {"incident": breach_case.reference, "mine": "skip", "back": "incident"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("portal:incident", args=[breach_case.reference]))
    assert Subscription.objects.get().receive is False
    page = client.get(reverse("portal:incident", args=[breach_case.reference])).content.decode()
    assert '<option value="skip" selected>' in page


def test_an_administrator_saves_the_organisations_choice(client, breach_case, storage, contoso_admin):
    client.force_login(contoso_admin)
    response = client.post(reverse("notifications:subscription"), {"service": storage.pk, "mine": "default", "organization": "receive"})
    assert response.status_code == 302
    row = Subscription.objects.get()
    assert row.user is None and row.organization == contoso_admin.organization and row.receive is True
    assert 'name="organization"' in client.get(reverse("notifications:preferences")).content.decode()


def test_a_customer_posting_the_organisations_choice_is_refused(client, breach_case, storage, contoso_user):
    client.force_login(contoso_user)
    response = client.post(reverse("notifications:subscription"), {"service": storage.pk, "mine": "default", "organization": "skip"})
    assert response.status_code == 403 and not Subscription.objects.exists()


def test_another_organisations_incident_is_answered_like_a_missing_one(client, noticed):
    from cases.models import Organization

    outsider = CustomerUserFactory(organization=Organization.objects.create(name="Northwind", slug="northwind"))
    client.force_login(outsider)
    answers = [client.post(reverse("notifications:subscription"), {"incident": ref, "mine": "skip"}, follow=True).content.decode()
               for ref in (noticed.reference, "IRT-1999-9999")]
    assert all("of your organisation" in answer for answer in answers) and not Subscription.objects.exists()


@pytest.mark.parametrize("data", [{}, {"mine": "maybe", "service": "1"}, {"mine": "skip"}, {"mine": "skip", "service": "x"},
                                  {"mine": "skip", "service": "1", "incident": "IRT-1"}])
def test_bad_input_is_a_message_not_a_500(client, contoso_user, data):
    client.force_login(contoso_user)
    response = client.post(reverse("notifications:subscription"), data)
    assert response.status_code == 302 and not Subscription.objects.exists()



def test_an_organisation_choice_reaches_every_user_of_it_on_their_next_request(client, noticed, contoso_admin, contoso_user):
    """The choices are kept in the cache per user (issue 18); an administrator's change forgets every user's of the organisation."""
    from notifications import selectors

    url = reverse("portal:incident", args=[noticed.reference])
    other_admin = CustomerUserFactory(organization=contoso_admin.organization, is_customer_admin=True)
    client.force_login(other_admin)
    skip_for_organization = '<option value="skip" selected>Do not email</option>'
    assert skip_for_organization not in client.get(url).content.decode()
    assert selectors.incident_subscription(contoso_user, case_id=noticed.pk, reference=noticed.reference)["organization"] is None
    subscriptions.set_subscriptions(by=contoso_admin, target=noticed, mine=None, organization=False, set_organization=True)
    assert skip_for_organization in client.get(url).content.decode()
    assert selectors.incident_subscription(contoso_user, case_id=noticed.pk, reference=noticed.reference)["organization"] is False
