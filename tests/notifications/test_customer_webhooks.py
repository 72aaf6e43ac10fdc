"""A customer administrator's webhook endpoints (issue 16, item 1): add, rotate, disable, deliveries, retry."""

import pytest
from django.test import Client
from django.urls import reverse

from cases.models import SecurityEvent
from notifications.models import Delivery, WebhookEndpoint
from notifications.services.webhooks import signing_secrets
from tests.factories import CustomerUserFactory
from tests.notifications.conftest import publish_update


@pytest.fixture
def contoso_admin(contoso):
    return CustomerUserFactory(username="contoso-admin", organization=contoso, is_customer_admin=True)


@pytest.fixture
def fabrikam_admin(fabrikam):
    return CustomerUserFactory(username="fabrikam-admin", organization=fabrikam, is_customer_admin=True)


def shown_secret(response) -> str:
    return response.content.decode().split('data-testid="webhook-secret">')[1].split("<")[0]


def add_endpoint(client, url="https://hooks.contoso.example/irt"):
    response = client.post(reverse("notifications:webhooks"), {"url": url, "description": "SOAR"})
    assert response.status_code == 200, response.content.decode()
    return WebhookEndpoint.objects.get(url=url), shown_secret(response)


def test_admin_adds_an_endpoint_and_sees_its_secret_once(client, contoso_admin, contoso):
    client.force_login(contoso_admin)
    endpoint, secret = add_endpoint(client)
    assert endpoint.organization == contoso and endpoint.secret == secret and secret.startswith("whsec_")
    assert secret not in client.get(reverse("notifications:webhooks")).content.decode()
    assert secret not in client.get(reverse("notifications:webhook", args=[endpoint.pk])).content.decode()
    assert SecurityEvent.objects.filter(detail__contains="added webhook endpoint", actor=contoso_admin).exists()


def test_an_internal_address_is_refused(client, contoso_admin):
    client.force_login(contoso_admin)
    response = client.post(reverse("notifications:webhooks"), {"url": "https://169.254.169.254/latest"})
    assert response.status_code == 400 and not WebhookEndpoint.objects.exists()


def test_rotation_keeps_the_old_secret_signing_during_the_overlap(client, contoso_admin):
    client.force_login(contoso_admin)
    endpoint, first = add_endpoint(client)
    second = shown_secret(client.post(reverse("notifications:webhook-rotate", args=[endpoint.pk])))
    endpoint.refresh_from_db()
    assert second != first and endpoint.previous_secret == first
    assert signing_secrets(endpoint) == [second, first]
    assert SecurityEvent.objects.filter(detail__contains="rotated the secret", actor=contoso_admin).exists()


def test_disabled_endpoint_gets_nothing_more(client, contoso_admin, breach_case, comms):
    client.force_login(contoso_admin)
    endpoint, _ = add_endpoint(client)
    client.post(reverse("notifications:webhook-disable", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert not endpoint.is_active and "contoso-admin" in endpoint.disabled_reason
    publish_update(breach_case, comms=comms)
    assert not Delivery.objects.filter(endpoint=endpoint).exists()


def test_admin_sees_own_deliveries_and_retries_a_dead_one(client, contoso_admin, breach_case, comms):
    client.force_login(contoso_admin)
    endpoint, _ = add_endpoint(client)
    publish_update(breach_case, comms=comms)
    delivery = Delivery.objects.get(endpoint=endpoint)
    Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.DEAD, attempts=8, last_error="HTTP 503")
    page = client.get(reverse("notifications:webhook", args=[endpoint.pk])).content.decode()
    assert str(delivery.pk) in page and "HTTP 503" in page and breach_case.reference in page
    response = client.post(reverse("notifications:webhook-retry", args=[endpoint.pk, delivery.pk]))
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.PENDING and delivery.attempts == 0
    assert SecurityEvent.objects.filter(detail__contains=f"webhook delivery {delivery.pk}").exists()


def test_fabrikam_admin_reaches_none_of_contosos_endpoints(client, contoso_admin, fabrikam_admin, breach_case, comms):
    client.force_login(contoso_admin)
    endpoint, secret = add_endpoint(client)
    publish_update(breach_case, comms=comms)
    delivery = Delivery.objects.get(endpoint=endpoint)
    other = Client()
    other.force_login(fabrikam_admin)
    page = other.get(reverse("notifications:webhooks")).content.decode()
    assert endpoint.url not in page
    assert other.get(reverse("notifications:webhook", args=[endpoint.pk])).status_code == 404
    assert other.post(reverse("notifications:webhook-rotate", args=[endpoint.pk])).status_code == 404
    assert other.post(reverse("notifications:webhook-disable", args=[endpoint.pk])).status_code == 404
    assert other.post(reverse("notifications:webhook-retry", args=[endpoint.pk, delivery.pk])).status_code == 404
    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.secret == secret


@pytest.mark.parametrize("notices", [1, 5])
def test_endpoint_page_takes_the_same_queries_whatever_the_deliveries(client, contoso_admin, breach_case, comms, notices,
                                                                     django_assert_num_queries):
    client.force_login(contoso_admin)
    endpoint, _ = add_endpoint(client)
    for n in range(notices):
        publish_update(breach_case, comms=comms, title=f"Update {n}")
    assert Delivery.objects.filter(endpoint=endpoint).count() == notices
    client.get(reverse("notifications:webhooks"))
    # 5: the inbox badge's count is kept in the cache since the page before (issue 18).
    with django_assert_num_queries(3):  # 4 before the session and the user were one query
        client.get(reverse("notifications:webhook", args=[endpoint.pk]))
