"""The delivery log follows the case's visibility: a delivery of a case hidden from a user is a 404."""

import pytest
from django.urls import reverse

from cases.models import Case
from cases.services import cases as case_services
from notifications.models import Delivery, DeliveryAttempt, Notification
from notifications.services.outbox import create_notification
from tests.factories import CaseFactory, ManagerFactory

pytestmark = pytest.mark.django_db


def email_delivery(case, *, address, organization=None, status=Delivery.Status.DEAD):
    notification = create_notification(
        kind=Notification.Kind.BREACH_NOTICE, case=case, title=f"Notice for {case.reference if case else 'nobody'}",
        deliveries=[Delivery(channel=Delivery.Channel.EMAIL, address=address, organization=organization)],
    )
    delivery = notification.deliveries.get()
    Delivery.objects.filter(pk=delivery.pk).update(status=status, attempts=10, last_error="Connection refused")
    return delivery


@pytest.fixture
def restricted_delivery(manager, contoso):
    case = CaseFactory(by=manager, owner=manager, restricted=True, title="Insider exfiltration")
    return email_delivery(case, address="ciso@contoso.example", organization=contoso)


@pytest.fixture
def open_delivery(manager, fabrikam):
    case = CaseFactory(by=manager, owner=manager)
    return email_delivery(case, address="security@fabrikam.example", organization=fabrikam)


def test_delivery_list_leaves_out_restricted_cases_of_other_teams(client, second_manager, restricted_delivery, open_delivery):
    client.force_login(second_manager)
    page = client.get(reverse("notifications:deliveries")).content.decode()
    assert "security@fabrikam.example" in page and open_delivery.notification.case.reference in page
    assert "ciso@contoso.example" not in page
    assert restricted_delivery.notification.case.reference not in page
    assert str(restricted_delivery.pk) not in page
    # The totals count only what the reader may know about.
    assert "0 pending, 0 delivered, 1 dead" in page


def test_manager_not_member_gets_404_for_delivery_of_restricted_case(client, second_manager, restricted_delivery):
    client.force_login(second_manager)
    assert client.get(reverse("notifications:delivery", args=[restricted_delivery.pk])).status_code == 404


def test_manager_not_member_cannot_retry_delivery_of_restricted_case(client, second_manager, restricted_delivery):
    client.force_login(second_manager)
    response = client.post(reverse("notifications:delivery-retry", args=[restricted_delivery.pk]))
    assert response.status_code == 404
    restricted_delivery.refresh_from_db()
    assert restricted_delivery.status == Delivery.Status.DEAD and restricted_delivery.attempts == 10
    assert not DeliveryAttempt.objects.filter(delivery=restricted_delivery).exists()


def test_manager_sees_delivery_of_restricted_case_once_added_as_a_member(client, manager, second_manager, restricted_delivery):
    case = restricted_delivery.notification.case
    case_services.add_member(case=Case.objects.get(pk=case.pk), by=manager, user=second_manager)
    client.force_login(second_manager)
    assert "ciso@contoso.example" in client.get(reverse("notifications:deliveries")).content.decode()
    assert client.get(reverse("notifications:delivery", args=[restricted_delivery.pk])).status_code == 200
    assert client.post(reverse("notifications:delivery-retry", args=[restricted_delivery.pk])).status_code == 302
    restricted_delivery.refresh_from_db()
    assert restricted_delivery.status == Delivery.Status.PENDING


def test_owner_manager_and_admin_see_delivery_of_restricted_case(client, manager, admin, restricted_delivery):
    for user in (manager, admin):
        client.force_login(user)
        assert "ciso@contoso.example" in client.get(reverse("notifications:deliveries")).content.decode()
        assert client.get(reverse("notifications:delivery", args=[restricted_delivery.pk])).status_code == 200


def test_delivery_without_a_case_stays_visible_to_every_manager_and_hidden_from_responders(client, second_manager, responder):
    delivery = email_delivery(None, address="ops@example.net")
    client.force_login(second_manager)
    assert client.get(reverse("notifications:delivery", args=[delivery.pk])).status_code == 200
    assert "ops@example.net" in client.get(reverse("notifications:deliveries")).content.decode()
    client.force_login(responder)
    assert client.get(reverse("notifications:delivery", args=[delivery.pk])).status_code == 403


@pytest.mark.parametrize("rows", [5, 25])
def test_delivery_list_runs_a_fixed_number_of_queries(client, django_assert_num_queries, manager, contoso, rows):
    reader = ManagerFactory()
    for n in range(rows):
        email_delivery(CaseFactory(by=manager, owner=manager, restricted=bool(n % 2)), address=f"a{n}@contoso.example")
    client.force_login(reader)
    client.get(reverse("notifications:deliveries"))
    # 7: the inbox badge's count is kept in the cache since the first request (issue 18).
    with django_assert_num_queries(4):  # 5 before the session and the user were one query
        page = client.get(reverse("notifications:deliveries")).content.decode()
    assert page.count("@contoso.example") == (rows + 1) // 2  # the unrestricted cases' rows only
