"""The deliveries page narrowed to one case (``?case=REF``), linked from the case page, within the same access rules."""

import pytest
from django.urls import reverse

from cases.models import Case
from cases.services import cases as case_services
from notifications.models import Delivery, Notification
from notifications.services.outbox import create_notification
from tests.cases.views.test_authorization import restricted_world  # noqa: F401 - fixture
from tests.factories import case_in_stage

pytestmark = pytest.mark.django_db


def email_of(case, address, organization):
    notification = create_notification(
        kind=Notification.Kind.BREACH_NOTICE, case=case, title=f"Notice of {case.reference}",
        deliveries=[Delivery(channel=Delivery.Channel.EMAIL, address=address, organization=organization)],
    )
    return notification.deliveries.get()


def deliveries_page(client, **query):
    return client.get(reverse("notifications:deliveries"), query)


def test_the_filter_shows_only_the_sends_of_that_case(client, manager, contoso):
    first = case_in_stage(Case.Status.DIAGNOSING, manager=manager)
    second = case_in_stage(Case.Status.DIAGNOSING, manager=manager)
    email_of(first, "first@contoso.example", contoso)
    email_of(second, "second@contoso.example", contoso)
    client.force_login(manager)
    response = deliveries_page(client, case=first.reference.lower())
    assert response.status_code == 200
    page = response.content.decode()
    assert "first@contoso.example" in page and "second@contoso.example" not in page
    assert f'href="{first.get_absolute_url()}"' in page, "the page says which case it shows and links back"
    both = deliveries_page(client).content.decode()
    assert "first@contoso.example" in both and "second@contoso.example" in both


def test_the_filter_combines_with_the_status(client, manager, contoso):
    case = case_in_stage(Case.Status.DIAGNOSING, manager=manager)
    dead = email_of(case, "dead@contoso.example", contoso)
    email_of(case, "pending@contoso.example", contoso)
    Delivery.objects.filter(pk=dead.pk).update(status=Delivery.Status.DEAD)
    client.force_login(manager)
    page = deliveries_page(client, case=case.reference, status="dead").content.decode()
    assert "dead@contoso.example" in page and "pending@contoso.example" not in page


def test_a_restricted_case_answers_the_same_as_one_that_does_not_exist(client, restricted_world):  # noqa: F811
    case = restricted_world["delivery"].notification.case
    client.force_login(restricted_world["users"]["manager"])  # a manager who is not a member
    hidden = deliveries_page(client, case=case.reference)
    missing = deliveries_page(client, case="IRT-1999-9999")
    assert hidden.status_code == missing.status_code == 400
    assert "ciso@contoso.example" not in hidden.content.decode()
    assert f"No case {case.reference} that you can see." in hidden.content.decode()
    client.force_login(restricted_world["users"]["member_manager"])
    assert "ciso@contoso.example" in deliveries_page(client, case=case.reference).content.decode()


@pytest.mark.parametrize("role", ["member_responder", "comms", "customer_affected"])
def test_who_may_not_see_deliveries_is_refused_with_or_without_the_filter(client, restricted_world, role):  # noqa: F811
    case = restricted_world["delivery"].notification.case
    client.force_login(restricted_world["users"][role])
    response = deliveries_page(client, case=case.reference)
    assert response.status_code in (302, 403)
    assert b"ciso@contoso.example" not in response.content


@pytest.mark.parametrize("junk", ["\x00", "x" * 5_000, "' OR 1=1 --", "IRT-2026-0001\x00"])
def test_junk_in_the_filter_is_a_form_error(client, manager, junk):
    client.force_login(manager)
    response = deliveries_page(client, case=junk)
    assert response.status_code == 400
    assert b'class="errorlist' in response.content


def test_the_case_page_links_to_its_deliveries_for_those_who_may_see_them(client, manager, responder):
    case = case_in_stage(Case.Status.DIAGNOSING, manager=manager)
    link = f'href="{reverse("notifications:deliveries")}?case={case.reference}"'
    client.force_login(manager)
    assert link in client.get(case.get_absolute_url()).content.decode()
    case_services.add_member(case=case, by=manager, user=responder)
    client.force_login(responder)
    assert link not in client.get(case.get_absolute_url()).content.decode()
