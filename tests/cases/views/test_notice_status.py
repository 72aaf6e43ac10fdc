"""The case page shows, per affected organisation, what each notice send became and who acknowledged."""

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.services import cases as case_services
from cases.services.communications import acknowledge
from notifications.models import Delivery
from tests.notifications.conftest import breach_case, publish_update  # noqa: F401 - breach_case is a fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent_case(breach_case, comms, contoso):
    # An update, not save(): the fixture's copy predates the access group the confirmation created.
    type(contoso).objects.filter(pk=contoso.pk).update(security_contacts="soc@contoso.example\nciso@contoso.example")
    publish_update(breach_case, comms=comms)
    emails = Delivery.objects.filter(notification__case=breach_case, organization=contoso, channel="email").order_by("address")
    Delivery.objects.filter(pk=emails[0].pk).update(status="delivered", delivered_at=timezone.now())
    Delivery.objects.filter(pk=emails[1].pk).update(status="dead", last_error="550 mailbox unavailable")
    return breach_case


def test_manager_sees_delivered_and_dead_with_the_delivery_link_and_retry(client, manager, sent_case):
    dead = Delivery.objects.get(notification__case=sent_case, status="dead", notification__kind="breach_notice")
    client.force_login(manager)
    html = client.get(sent_case.get_absolute_url()).content.decode()
    assert "Notices and acknowledgement" in html
    assert 'class="badge delivery-delivered">Delivered' in html and 'class="badge delivery-dead">Dead' in html
    assert reverse("notifications:delivery", args=[dead.pk]) in html
    assert reverse("notifications:delivery-retry", args=[dead.pk]) in html
    assert "Nobody of Contoso has acknowledged it yet." in html
    assert reverse("notifications:deliveries") in html, "the navigation links the delivery log"


def test_acknowledgement_shows_who_and_when(client, manager, sent_case, contoso_user):
    acknowledge(case=sent_case, user=contoso_user)
    client.force_login(manager)
    html = client.get(sent_case.get_absolute_url()).content.decode()
    assert f"Acknowledged</span> by {contoso_user.display_name} at" in html


def test_a_member_responder_sees_the_status_but_not_the_delivery_pages(client, manager, responder, sent_case):
    case_services.add_member(case=sent_case, by=manager, user=responder)
    client.force_login(responder)
    html = client.get(sent_case.get_absolute_url()).content.decode()
    assert 'delivery-dead">Dead' in html
    assert "/retry/" not in html and reverse("notifications:deliveries") not in html
