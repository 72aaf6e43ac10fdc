"""Signed-in reads kept per process, forgotten when PostgreSQL says a row they came from changed (cases/access/sessions/memo.py).

These tests commit (``transaction=True``), as a real request does, so the triggers' notifications
arrive; a change is made the way another process would make it (a plain UPDATE or DELETE, nothing
that tells the memo directly), and must count on the next request within a second.
"""

import pytest
from django.db import connection
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from cases.access.sessions.memo import signed_in_memo
from cases.models import User
from irt.listening import LISTENER_NAME, listener
from tests.listening import settled, until
from tests.mfa import login_without_second_factor, pass_second_factor

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the notifications are PostgreSQL's"),
]
TRIVIAL = "/bench/trivial"
MIGRATION = "cases.migrations.0005_signed_in_change_notifications"


@pytest.fixture
def memo(settings):
    settings.IRT_SIGNED_IN_MEMO = True
    settings.ROOT_URLCONF = "benchmarks.urls"
    signed_in_memo.forget_all()
    until(signed_in_memo.usable, "the listener is heard from")
    yield signed_in_memo
    listener.stop_listening()  # the test database cannot be dropped while the listener is connected to it


def kept_signed_in(client, user, memo):
    """Sign in (both factors), let the session's first writes settle, and leave the read kept."""
    login_without_second_factor(client, user, backend="cases.access.backends.PermissionBackend")
    pass_second_factor(client, user)
    client.get(TRIVIAL)  # the first request of a session notes the time it was seen: a session write
    settled()
    client.get(TRIVIAL)  # read and kept
    assert client.session.session_key in memo._kept
    return client


def test_a_repeated_signed_in_request_reads_nothing_and_gets_its_own_user(memo, client, manager, django_assert_num_queries):
    kept_signed_in(client, manager, memo)
    with django_assert_num_queries(0):
        response = client.get(TRIVIAL)
    user = response.wsgi_request.user
    assert user.pk == manager.pk and user.is_verified() and user.has_perm("cases.manage_case")
    user.first_name = "changed by one request"
    again = client.get(TRIVIAL).wsgi_request.user
    assert again is not user and again.first_name == manager.first_name


def test_a_customers_organisation_is_each_requests_own_too(memo, client, contoso_user):
    kept_signed_in(client, contoso_user, memo)
    client.get(TRIVIAL).wsgi_request.user.organization.name = "changed by one request"
    assert client.get(TRIVIAL).wsgi_request.user.organization.name == contoso_user.organization.name


def test_a_deactivated_account_is_signed_out_everywhere_within_a_second(memo, client, manager):
    kept_signed_in(client, manager, memo)
    User.objects.filter(pk=manager.pk).update(is_active=False)  # as an admin's request in another process would
    until(lambda: client.get(TRIVIAL).wsgi_request.user.is_anonymous, "the deactivated user is anonymous", seconds=1)


def test_a_session_ended_elsewhere_ends_here(memo, client, manager):
    kept_signed_in(client, manager, memo)
    with connection.cursor() as cursor:  # "sign out everywhere", or the sweeper, in another process
        cursor.execute("DELETE FROM cases_signed_in_session WHERE session_key = %s", [client.session.session_key])
    until(lambda: client.get(TRIVIAL).wsgi_request.user.is_anonymous, "the ended session is anonymous", seconds=1)


def test_a_removed_permission_and_a_removed_device_count_within_a_second(memo, client, manager):
    kept_signed_in(client, manager, memo)
    assert manager.groups.exists()
    manager.groups.clear()
    until(lambda: not client.get(TRIVIAL).wsgi_request.user.has_perm("cases.manage_case"), "the permission is gone", 1)
    TOTPDevice.objects.filter(user=manager).delete()
    until(lambda: not client.get(TRIVIAL).wsgi_request.user.is_verified(), "the second factor is gone", 1)


def test_a_listener_not_heard_from_means_every_request_reads_the_database(memo, client, manager, django_assert_num_queries):
    kept_signed_in(client, manager, memo)
    listener._alive_until = 0.0  # as if its pings had stopped arriving
    with django_assert_num_queries(1):
        assert client.get(TRIVIAL).wsgi_request.user.pk == manager.pk


def test_a_dropped_listening_connection_stops_kept_reads_until_it_is_back(memo, client, manager, django_assert_num_queries):
    kept_signed_in(client, manager, memo)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s"
                       " AND datname = current_database()", [LISTENER_NAME])
        assert cursor.fetchall() == [(True,)], "this process's listener, and only it"
    until(lambda: not memo.usable(), "kept reads stop when the listening connection is gone", seconds=2)
    assert not memo._kept, "anything may change while nobody listens: nothing kept survives"
    with django_assert_num_queries(1):
        client.get(TRIVIAL)
    until(memo.usable, "the listener reconnects by itself")


def test_a_read_begun_before_a_change_is_not_kept(memo):
    later = timezone.now() + timezone.timedelta(hours=1)
    stamp = memo.stamp()
    memo.forget_all()  # a notification heard while the read was under way
    memo.keep("read-before-the-change", stamp, {"a": 1}, None, later)
    assert memo.get("read-before-the-change") is None
    memo.keep("read-after-the-change", memo.stamp(), {"a": 1}, None, later)
    assert memo.get("read-after-the-change") == ({"a": 1}, None)


def test_an_expired_session_is_not_served(memo):
    memo.keep("expired", memo.stamp(), {}, None, timezone.now() - timezone.timedelta(seconds=1))
    assert memo.get("expired") is None


@pytest.mark.parametrize("statement", [
    "UPDATE cases_signed_in_session SET expire_date = expire_date WHERE false",
    "UPDATE cases_user SET is_active = is_active WHERE false",
    "DELETE FROM cases_user_groups WHERE false",
    "DELETE FROM cases_user_user_permissions WHERE false",
    "DELETE FROM auth_group_permissions WHERE false",
    "UPDATE auth_permission SET codename = codename WHERE false",
    "UPDATE django_content_type SET model = model WHERE false",
    "UPDATE cases_organization SET name = name WHERE false",
    "UPDATE otp_totp_totpdevice SET confirmed = confirmed WHERE false",
    "UPDATE otp_static_staticdevice SET confirmed = confirmed WHERE false",
])
def test_every_table_the_read_comes_from_makes_every_process_forget(memo, statement):
    memo.keep("kept", memo.stamp(), {}, None, timezone.now() + timezone.timedelta(hours=1))
    with connection.cursor() as cursor:
        cursor.execute(statement)
    until(lambda: memo.get("kept") is None, "the change is heard", seconds=1)


# The finished user: what Django's auth.get_user made of a kept read, kept beside it.


@pytest.fixture
def get_user_calls(monkeypatch):
    """Count Django's ``auth.get_user`` as the signed-in middleware calls it."""
    from cases.views import middleware

    calls = []
    real = middleware.auth.get_user
    monkeypatch.setattr(middleware.auth, "get_user", lambda request: calls.append(request) or real(request))
    return calls


def test_a_repeated_request_takes_the_user_django_made_of_the_same_read(memo, client, manager, get_user_calls):
    kept_signed_in(client, manager, memo)
    client.get(TRIVIAL)  # the first request from the kept read finishes the user and keeps them
    get_user_calls.clear()
    first = client.get(TRIVIAL).wsgi_request.user
    assert get_user_calls == []
    assert first.pk == manager.pk and first.is_verified() and first.has_perm("cases.manage_case")
    first._perm_cache.add("cases.delete_everything")  # one request's changes are its own
    first.first_name = "changed by one request"
    again = client.get(TRIVIAL).wsgi_request.user
    assert again is not first and again.first_name == manager.first_name
    assert not again.has_perm("cases.delete_everything")
    assert get_user_calls == []


def test_a_changed_password_signs_the_session_out_though_a_finished_user_was_kept(memo, client, manager, get_user_calls):
    """Django checks the session's hash of the password in get_user: a kept finished user must not skip that after a change."""
    from django.contrib.auth.hashers import make_password

    kept_signed_in(client, manager, memo)
    client.get(TRIVIAL)
    User.objects.filter(pk=manager.pk).update(password=make_password("a new password, set elsewhere"))
    until(lambda: client.get(TRIVIAL).wsgi_request.user.is_anonymous, "the session of the old password is signed out",
          seconds=1)
    assert get_user_calls, "Django's get_user decided it"


def test_a_session_changed_before_the_user_is_asked_for_is_not_the_read_the_user_was_made_of(memo, client, manager):
    from importlib import import_module

    from django.conf import settings

    kept_signed_in(client, manager, memo)
    client.get(TRIVIAL)
    store = import_module(settings.SESSION_ENGINE).SessionStore(client.session.session_key)
    assert store.kept_signed_in_user().pk == manager.pk
    changed = import_module(settings.SESSION_ENGINE).SessionStore(client.session.session_key)
    changed["something"] = "else"
    assert changed.kept_signed_in_user() is None


def test_a_finished_user_is_kept_only_for_the_read_it_was_made_of(memo):
    later = timezone.now() + timezone.timedelta(hours=1)
    read = memo.keep("session", memo.stamp(), {}, None, later)
    memo.forget_all()  # heard while get_user ran
    memo.keep_finished("session", read, User(username="made-of-the-old-read"))
    newer = memo.keep("session", memo.stamp(), {}, None, later)
    assert memo.finished("session", read) is None and memo.finished("session", newer) is None
    memo.keep_finished("session", newer, User(username="made-of-this-read"))
    assert memo.finished("session", newer).username == "made-of-this-read"
    memo.forget("session")
    assert memo.finished("session", newer) is None
