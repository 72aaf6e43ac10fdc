"""The signed-in user is read with their permissions and second-factor devices in one query, and nothing is kept.

``PermissionBackend.get_user`` and ``SecondFactorMiddleware`` (issue 18): a staff request used to
read the user, their permissions and their device in three queries. These tests hold the one query
to what the three answered, and show that a change to any of those rows counts on the next request.
"""

import pytest
from django.contrib.auth.models import Group, Permission
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticDevice

from cases.access.backends import PermissionBackend, _permission_rows, reading_session
from cases.services import mfa
from tests.mfa import login_without_second_factor, pass_second_factor

pytestmark = pytest.mark.django_db
TRIVIAL = "/bench/trivial"
BACKEND = "cases.access.backends.PermissionBackend"


@pytest.fixture(autouse=True)
def _trivial_view(settings):
    settings.ROOT_URLCONF = "benchmarks.urls"


def django_permissions(user) -> set[str]:
    return {f"{app_label}.{codename}" for app_label, codename in _permission_rows(user)}


@pytest.mark.parametrize("who", ["responder", "manager", "comms", "contoso_user"])
def test_permissions_read_with_the_user_are_the_permission_backends(request, who):
    user = request.getfixturevalue(who)
    user.user_permissions.add(Permission.objects.get(codename="view_service"))  # an own permission beside the groups'
    loaded = PermissionBackend().get_user(user.pk)
    assert loaded._perm_cache == django_permissions(user)
    assert loaded.get_all_permissions() == django_permissions(user)


def test_a_superuser_is_answered_by_django_not_by_the_joined_list(admin, django_assert_num_queries):
    loaded = PermissionBackend().get_user(admin.pk)
    assert not hasattr(loaded, "_perm_cache")
    with django_assert_num_queries(0):
        assert loaded.has_perm("cases.manage_case")


def test_inactive_and_unknown_users_are_not_signed_in(responder):
    responder.is_active = False
    responder.save()
    assert PermissionBackend().get_user(responder.pk) is None
    assert PermissionBackend().get_user(10**9) is None


def test_the_confirmed_devices_are_read_with_the_user(responder):
    totp = mfa.totp_device(responder) or mfa.enrol_totp_with_secret(user=responder, secret_b32="JBSWY3DPEHPK3PXP")
    static = StaticDevice.objects.create(user=responder, name="backup", confirmed=True)
    StaticDevice.objects.create(user=responder, name="not yet", confirmed=False)
    assert PermissionBackend().get_user(responder.pk).confirmed_second_factors == {totp.persistent_id, static.persistent_id}


def signed_in(client, user):
    login_without_second_factor(client, user, backend=BACKEND)
    pass_second_factor(client, user)
    return client


def test_a_verified_staff_request_reads_session_and_user_in_one_query(client, manager, django_assert_num_queries):
    signed_in(client, manager)
    client.get(TRIVIAL)
    with django_assert_num_queries(1):  # the session, joined with the user, their permissions and devices
        response = client.get(TRIVIAL)
    assert response.status_code == 200 and response.wsgi_request.user.pk == manager.pk
    assert reading_session.get() is None  # a request's session is named only while its user is read


def test_a_session_from_the_cache_reads_the_user_on_its_own(client, manager, settings, django_assert_num_queries):
    settings.SESSION_ENGINE = "cases.access.sessions.cached_db"
    signed_in(client, manager)
    client.get(TRIVIAL)
    with django_assert_num_queries(1):  # the session from the cache; the user with permissions and devices
        response = client.get(TRIVIAL)
    assert response.wsgi_request.user.pk == manager.pk and response.wsgi_request.user.is_verified()


def test_a_user_read_with_the_session_serves_only_that_session_and_only_once(manager, responder):
    from cases.access.sessions import db

    backend = PermissionBackend()
    store = db.SessionStore()
    store.update({"_auth_user_id": str(manager.pk)})
    store.create()
    loaded = db.SessionStore(store.session_key)
    loaded.load()
    manager.is_active = False
    manager.save()
    token = reading_session.set(loaded)
    try:
        assert backend.get_user(responder.pk).pk == responder.pk  # another id: read from the database
        assert backend.get_user(manager.pk).pk == manager.pk  # the row read with the session (before the change)
        assert backend.get_user(manager.pk) is None  # once only: the next read asks the database, which says inactive
    finally:
        reading_session.reset(token)
    assert backend.get_user(manager.pk) is None


def test_the_device_is_loaded_only_when_used_and_is_the_sessions(rf, client, manager):
    signed_in(client, manager)
    response = client.get(TRIVIAL)
    user = response.wsgi_request.user
    assert user.is_verified()
    assert user.otp_device.persistent_id == client.session[DEVICE_ID_SESSION_KEY]
    assert user.otp_device.user_id == manager.pk


def test_a_deleted_device_ends_the_second_factor_on_the_next_request(client, manager):
    signed_in(client, manager)
    assert client.get("/").status_code == 200
    mfa.totp_device(manager).delete()
    response = client.get("/")
    assert response.status_code == 302 and "/accounts/two-factor/" in response["Location"]
    assert DEVICE_ID_SESSION_KEY not in client.session


def test_an_unconfirmed_device_does_not_count(client, manager):
    signed_in(client, manager)
    device = mfa.totp_device(manager)
    device.confirmed = False
    device.save()
    assert not client.get(TRIVIAL).wsgi_request.user.is_verified()


def test_another_users_device_in_the_session_does_not_count(client, manager, responder):
    signed_in(client, manager)
    theirs = mfa.enrol_totp_with_secret(user=responder, secret_b32="JBSWY3DPEHPK3PXP")
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = theirs.persistent_id
    session.save()
    assert not client.get(TRIVIAL).wsgi_request.user.is_verified()
    assert DEVICE_ID_SESSION_KEY not in client.session


def test_a_permission_taken_away_counts_on_the_next_request(client, responder):
    signed_in(client, responder)
    assert client.get(TRIVIAL).wsgi_request.user.has_perm("cases.work_case")
    for group in Group.objects.filter(user=responder):
        group.permissions.remove(Permission.objects.get(codename="work_case"))
    responder.user_permissions.remove(*Permission.objects.filter(codename="work_case"))
    assert not client.get(TRIVIAL).wsgi_request.user.has_perm("cases.work_case")


def test_a_customer_is_read_with_their_organisation(client, contoso_user, django_assert_num_queries):
    login_without_second_factor(client, contoso_user, backend=BACKEND)
    client.get(TRIVIAL)
    response = client.get(TRIVIAL)
    with django_assert_num_queries(0):
        assert response.wsgi_request.user.organization.pk == contoso_user.organization_id
