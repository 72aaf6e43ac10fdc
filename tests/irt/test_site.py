"""Sign-in, landing pages, health check and site-wide headers."""

from unittest import mock

import pytest
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.utils import OperationalError
from django.urls import reverse


@pytest.mark.django_db
@pytest.mark.parametrize(
    "persona, landing",
    [("responder", "/"), ("manager", "/"), ("comms", "/"), ("admin", "/"), ("contoso_user", "/portal/"), ("fabrikam_user", "/portal/")],
)
def test_each_role_lands_on_its_own_start_page(client, request, persona, landing):
    from cases.services import mfa
    from tests.mfa import TEST_TOTP_SECRET, totp_now

    user = request.getfixturevalue(persona)
    staff = mfa.is_staff_account(user)
    if staff:
        mfa.enrol_totp_with_secret(user=user, secret_b32=TEST_TOTP_SECRET)
    response = client.post(reverse("login"), {"username": user.username, "password": "correct-horse-battery-staple"}, follow=True)
    assert response.redirect_chain, "sign-in did not redirect"
    if staff:  # the second factor comes between the password and the landing page
        assert response.request["PATH_INFO"] == reverse("account:mfa-verify")
        response = client.post(reverse("account:mfa-verify"), {"otp_token": totp_now(), "next": landing}, follow=True)
    assert response.request["PATH_INFO"] == landing
    assert response.status_code == 200


def test_wrong_password_and_unknown_user_get_the_same_generic_message(client, responder):
    wrong_password = client.post(reverse("login"), {"username": "responder", "password": "nope"})
    unknown_user = client.post(reverse("login"), {"username": "nobody-here", "password": "nope"})
    assert wrong_password.status_code == unknown_user.status_code == 200
    for response in (wrong_password, unknown_user):
        assert b"That username and password did not match" in response.content
    assert b"nobody-here" in unknown_user.content  # the username field is re-filled, nothing more
    assert b"does not exist" not in unknown_user.content


def test_sign_out_ends_the_session(client, responder, settings):
    client.force_login(responder)
    assert client.session["_auth_user_id"] == str(responder.pk)
    old_session = client.cookies[settings.SESSION_COOKIE_NAME].value
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
    dashboard = client.get(reverse("cases:dashboard"))
    assert dashboard.status_code == 302 and dashboard["Location"].startswith(reverse("login"))
    # The old session cookie, replayed, opens nothing: the session is gone on the server too.
    client.cookies[settings.SESSION_COOKIE_NAME] = old_session
    replayed = client.get(reverse("cases:dashboard"))
    assert replayed.status_code == 302 and replayed["Location"].startswith(reverse("login"))


def test_customer_opening_a_staff_url_is_sent_to_the_portal_without_staff_data(client, contoso_user, manager):
    from cases.models import Case
    from tests.factories import case_in_stage

    case = case_in_stage(Case.Status.DIAGNOSING, manager=manager, internal_summary="SECRET-INTERNAL-SUMMARY")
    client.force_login(contoso_user)
    for url in (reverse("cases:dashboard"), reverse("cases:list"), case.get_absolute_url()):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == reverse("portal:index")
    portal = client.get(reverse("portal:index"))
    assert b"SECRET-INTERNAL-SUMMARY" not in portal.content
    assert case.reference.encode() not in portal.content


def test_user_without_a_role_is_refused(client, db):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="no-role"))
    assert client.get(reverse("cases:dashboard")).status_code == 403


def test_healthz_answers_ok_after_a_database_round_trip(client, db):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_healthz_answers_503_when_the_database_is_unreachable(client, db):
    # On the class: the probe runs in a thread of its own, with a connection of its own.
    with mock.patch.object(BaseDatabaseWrapper, "cursor", side_effect=OperationalError("connection refused")):
        response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


def test_pages_send_a_strict_content_security_policy(client, responder):
    client.force_login(responder)
    response = client.get(reverse("cases:dashboard"))
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "object-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert b"<script>" not in response.content and b'style="' not in response.content
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
