"""The customer administrator's organisation page: what it shows, what it changes, and what it never shows."""

import pytest
from django.test import Client
from django.urls import reverse

from cases.models import SecurityEvent, User
from tests.factories import CustomerUserFactory


@pytest.fixture
def contoso_admin(contoso):
    return CustomerUserFactory(username="contoso-admin", organization=contoso, is_customer_admin=True,
                               email="admin@contoso.example")


@pytest.fixture
def fabrikam_admin(fabrikam):
    return CustomerUserFactory(username="fabrikam-admin", organization=fabrikam, is_customer_admin=True)


def test_page_lists_own_users_contacts_and_changes_only(client, contoso_admin, contoso_user, fabrikam_user, fabrikam_admin,
                                                         django_assert_num_queries):
    other = Client()
    other.force_login(fabrikam_admin)
    other.post(reverse("portal:contact-add"), {"contact-email": "soc@fabrikam.example"})
    client.force_login(contoso_admin)
    client.post(reverse("portal:contact-add"), {"contact-email": "soc@contoso.example"})
    with django_assert_num_queries(4):  # fixed, whatever the number of users and changes
        page = client.get(reverse("portal:organization")).content.decode()
    assert "customer-contoso" in page and "soc@contoso.example" in page and "added security contact" in page
    for other in ("fabrikam", "Fabrikam"):
        assert other not in page
    assert 'href="/portal/organisation/"' in page  # the nav link an administrator gets


def test_ordinary_customer_sees_no_organisation_link_and_gets_403(client, contoso_user):
    client.force_login(contoso_user)
    assert "/portal/organisation/" not in client.get(reverse("portal:index")).content.decode()
    assert client.get(reverse("portal:organization")).status_code == 403
    assert client.post(reverse("portal:contact-add"), {"contact-email": "x@example.com"}).status_code == 403


def test_invite_with_a_bad_address_says_why_and_changes_nothing(client, contoso_admin):
    client.force_login(contoso_admin)
    response = client.post(reverse("portal:user-invite"), {"invite-email": "not-an-address"})
    assert response.status_code == 400 and "Enter a valid email address" in response.content.decode()
    assert User.objects.filter(organization=contoso_admin.organization).count() == 1


def test_inviting_a_taken_address_says_so_and_changes_nothing(client, contoso_admin, contoso_user):
    client.force_login(contoso_admin)
    response = client.post(reverse("portal:user-invite"), {"invite-email": contoso_user.email}, follow=True)
    assert "Someone already has an account with that address." in response.content.decode()
    assert User.objects.filter(organization=contoso_admin.organization).count() == 2


def test_fabrikam_admin_cannot_remove_a_contoso_user(client, fabrikam_admin, contoso_user):
    client.force_login(fabrikam_admin)
    assert client.post(reverse("portal:user-remove", args=[contoso_user.username])).status_code == 404
    contoso_user.refresh_from_db()
    assert contoso_user.is_active
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.CUSTOMER_SETTINGS_CHANGED).exists()


def test_feed_token_is_shown_once(client, contoso_admin):
    client.force_login(contoso_admin)
    response = client.post(reverse("portal:feed-token"))
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    token = response.content.decode().split('data-testid="feed-token">')[1].split("<")[0]
    assert token.startswith("irtfeed_")
    assert token not in client.get(reverse("portal:organization")).content.decode()


def test_staff_see_each_change_in_the_security_log_admin(client, admin, contoso_admin):
    client.force_login(contoso_admin)
    client.post(reverse("portal:contact-add"), {"contact-email": "soc@contoso.example"})
    client.force_login(admin)
    page = client.get(reverse("admin:cases_securityevent_changelist")).content.decode()
    assert "Customer administrator changed organisation settings" in page
