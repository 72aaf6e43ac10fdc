"""API tokens: hashed at rest, shown once, scoped, expiring, revocable, last use recorded, in the security log."""

import hashlib
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from cases.models.exceptions import ActionRefused, NotAllowed
from cases.models import ApiToken, SecurityEvent
from cases.services import api_tokens
from tests.cases.api.conftest import ApiClient


def test_only_the_hash_of_a_token_is_stored(db, responder):
    token, raw = api_tokens.create_token(user=responder, by=responder, name="laptop", scopes=["cases:read"])
    row = ApiToken.objects.filter(pk=token.pk).values().get()
    assert raw not in str(row)
    assert row["token_hash"] == hashlib.sha256(raw.encode()).hexdigest()
    assert raw.startswith(f"irt_{row['prefix']}_") and len(raw) > 40


def test_creating_and_revoking_a_token_is_in_the_security_log(db, responder, admin):
    token, _ = api_tokens.create_token(user=responder, by=responder, name="laptop", scopes=["cases:read"])
    api_tokens.revoke_token(token=token, by=admin)
    created, revoked = SecurityEvent.objects.filter(user=responder).order_by("pk")
    assert created.kind == SecurityEvent.Kind.API_TOKEN_CREATED and token.prefix in created.detail
    assert revoked.kind == SecurityEvent.Kind.API_TOKEN_REVOKED and revoked.actor == admin


def test_a_revoked_or_expired_token_does_not_authenticate(db, responder, settings):
    settings.IRT_API_TOKEN_CACHE_SECONDS = 0
    token, raw = api_tokens.create_token(user=responder, by=responder, name="laptop", scopes=["cases:read"])
    assert api_tokens.authenticate(raw) == token
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert api_tokens.authenticate(raw) is None
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() + timedelta(days=1))
    api_tokens.revoke_token(token=token, by=responder)
    assert api_tokens.authenticate(raw) is None


def test_a_revocation_reaches_the_process_that_made_it_at_once(db, responder, django_assert_num_queries):
    token, raw = api_tokens.create_token(user=responder, by=responder, name="laptop", scopes=["cases:read"])
    assert api_tokens.authenticate(raw) == token
    with django_assert_num_queries(0):
        assert api_tokens.authenticate(raw) == token  # trusted: no query
    api_tokens.revoke_token(token=token, by=responder)
    assert api_tokens.authenticate(raw) is None


def test_a_change_made_elsewhere_is_seen_when_the_trust_period_ends(db, responder, settings, monkeypatch):
    """Another process revoking the token, or deactivating its user, is seen within IRT_API_TOKEN_CACHE_SECONDS."""
    settings.IRT_API_TOKEN_CACHE_SECONDS = 10
    clock = [1000.0]
    monkeypatch.setattr(api_tokens.time, "monotonic", lambda: clock[0])
    token, raw = api_tokens.create_token(user=responder, by=responder, name="laptop", scopes=["cases:read"])
    assert api_tokens.authenticate(raw) == token
    type(responder).objects.filter(pk=responder.pk).update(is_active=False)
    clock[0] += 9
    assert api_tokens.authenticate(raw) == token
    clock[0] += 2
    assert api_tokens.authenticate(raw) is None


def test_a_trusted_token_never_outlives_its_expiry(db, responder):
    import time

    token, raw = api_tokens.create_token(user=responder, by=responder, name="laptop", scopes=["cases:read"])
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() + timedelta(seconds=0.5))
    assert api_tokens.authenticate(raw) == token
    time.sleep(0.6)
    assert api_tokens.authenticate(raw) is None


def test_each_request_gets_its_own_copy_of_a_trusted_token(db, responder):
    _, raw = api_tokens.create_token(user=responder, by=responder, name="laptop", scopes=["cases:read"])
    first, second = api_tokens.authenticate(raw), api_tokens.authenticate(raw)
    first.user.otp_device = "set by one request"
    assert first is not second and first.user is not second.user and not hasattr(second.user, "otp_device")
    assert second.user.has_perm("cases.work_case") is responder.has_perm("cases.work_case")


def test_last_use_is_recorded_at_most_once_a_minute(db, responder):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    token, raw = api_tokens.create_token(user=responder, by=responder, name="laptop", scopes=["cases:read"])
    ApiClient(raw).get("/api/v1/cases/", REMOTE_ADDR="198.51.100.7")
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None and token.last_used_from == "198.51.100.7"
    with CaptureQueriesContext(connection) as queries:
        api_tokens.authenticate(raw)
    assert not [q for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - timedelta(minutes=2))
    api_tokens.forget_verified_tokens()  # as in a process that has not seen the token yet
    api_tokens.authenticate(raw)
    token.refresh_from_db()
    assert token.last_used_at > first - timedelta(minutes=2)


def test_customers_and_people_without_a_team_get_no_token(db, contoso_user):
    from tests.factories import UserFactory

    for user in (contoso_user, UserFactory(username="no-team")):
        with pytest.raises(ActionRefused):
            api_tokens.create_token(user=user, by=user, name="x", scopes=["cases:read"])


def test_only_an_admin_creates_a_token_for_someone_else(db, responder, manager):
    with pytest.raises(NotAllowed):
        api_tokens.create_token(user=responder, by=manager, name="x", scopes=["cases:read"])


@pytest.mark.parametrize("scopes, days", [([], 30), (["cases:delete"], 30), (["cases:read"], 0), (["cases:read"], 400)])
def test_a_token_needs_known_scopes_and_a_bounded_lifetime(db, responder, scopes, days):
    with pytest.raises(ActionRefused):
        api_tokens.create_token(user=responder, by=responder, name="x", scopes=scopes, days=days)
    assert not ApiToken.objects.exists()


def test_a_service_account_never_signs_in_with_a_password(client, db, admin):
    account = api_tokens.create_service_account(by=admin, username="sentinel-connector", teams=["Responders"])
    account.set_password("a-long-password-for-the-connector")
    account.save()
    assert not account.check_password("a-long-password-for-the-connector")
    response = client.post(reverse("login"), {"username": "sentinel-connector", "password": "a-long-password-for-the-connector"})
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    _, raw = api_tokens.create_token(user=account, by=admin, name="Sentinel", scopes=["cases:read"])
    assert ApiClient(raw).get("/api/v1/cases/").status_code == 200


def test_the_command_prints_the_token_alone_on_its_last_line(db, responder):
    out = StringIO()
    call_command("create_api_token", "--user", "responder", "--scope", "cases:read", "--scope", "cases:write",
                 "--name", "CI", "--days", "7", stdout=out)
    last = out.getvalue().rstrip("\n").splitlines()[-1]
    token = api_tokens.authenticate(last)
    assert token.user == responder and token.scopes == ["cases:read", "cases:write"] and token.name == "CI"
    assert timedelta(days=6) < token.expires_at - timezone.now() <= timedelta(days=7)


@pytest.mark.parametrize("args", [["--user", "nobody", "--scope", "cases:read"], ["--user", "customer-contoso", "--scope", "cases:read"]])
def test_the_command_refuses_unknown_users_and_customers(db, contoso_user, args):
    with pytest.raises(CommandError):
        call_command("create_api_token", *args, stdout=StringIO())
    assert not ApiToken.objects.exists()


def test_the_token_page_shows_a_new_token_once_and_revokes_it(client, responder):
    client.force_login(responder)
    url = reverse("api_tokens:list")
    response = client.post(url, {"name": "laptop CLI", "scopes": ["cases:read"], "days": 30})
    assert response.status_code == 200
    token = ApiToken.objects.get(user=responder)
    shown = response.context["created"]["raw"]
    assert api_tokens.authenticate(shown) == token and shown in response.content.decode()
    page = client.get(url).content.decode()
    assert shown not in page and "laptop CLI" in page and f"irt_{token.prefix}_" in page
    response = client.post(reverse("api_tokens:revoke", args=[token.pk]))
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_the_token_page_refuses_another_users_token(client, responder, manager):
    token, _ = api_tokens.create_token(user=manager, by=manager, name="theirs", scopes=["cases:read"])
    client.force_login(responder)
    assert client.post(reverse("api_tokens:revoke", args=[token.pk])).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_the_token_page_shows_form_errors_and_creates_nothing(client, responder):
    client.force_login(responder)
    response = client.post(reverse("api_tokens:list"), {"name": "", "scopes": ["nope"], "days": 9999})
    assert response.status_code == 400
    assert not ApiToken.objects.exists()


def test_an_admin_creates_a_service_account_token_in_admin_and_sees_it_once(client, admin):
    account = api_tokens.create_service_account(by=admin, username="splunk-connector", teams=["Responders"])
    client.force_login(admin)
    response = client.post(reverse("admin:cases_apitoken_add"),
                           {"user": account.pk, "name": "Splunk", "scopes": ["alerts:write"], "days": 90}, follow=True)
    assert response.status_code == 200
    token = ApiToken.objects.get(user=account)
    message = next(str(m) for m in response.context["messages"] if "irt_" in str(m))
    raw = message.split("Token for splunk-connector: ")[1].split(" ")[0]
    assert api_tokens.authenticate(raw) == token
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.API_TOKEN_CREATED, user=account, actor=admin).exists()
    client.post(reverse("admin:cases_apitoken_changelist"), {"action": "revoke", "_selected_action": [token.pk]})
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_a_bearer_request_needs_no_csrf_token(db, responder):
    from django.test import Client

    _, raw = api_tokens.create_token(user=responder, by=responder, name="x", scopes=["cases:write"])
    client = Client(enforce_csrf_checks=True)
    response = client.post("/api/v1/cases/", {"title": "From a script"}, content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 201


def test_a_trusted_token_records_its_last_use_once_not_on_every_request(db, responder):
    """The process's trusted copy learns of the write, so the requests after it within the trust period write nothing."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    token, raw = api_tokens.create_token(user=responder, by=responder, name="laptop", scopes=["cases:read"])
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now() - timedelta(minutes=5))
    with CaptureQueriesContext(connection) as queries:
        for _ in range(5):
            assert api_tokens.authenticate(raw) == token
    assert len([q for q in queries.captured_queries if q["sql"].startswith("UPDATE")]) == 1
