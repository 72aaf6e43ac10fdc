"""The session engines: Django's, on ``SignedInSession``, reading the row and its user in one query (``cases/access/sessions``)."""

from datetime import timedelta

import pytest
from django.contrib.auth import SESSION_KEY
from django.core.cache import cache
from django.utils import timezone

from cases.access.sessions import cached_db, db
from cases.models import SignedInSession

pytestmark = pytest.mark.django_db


def saved_session(engine=db, **data) -> str:
    store = engine.SessionStore()
    store.update(data)
    store.create()
    return store.session_key


@pytest.mark.parametrize("engine", [db, cached_db])
def test_a_live_session_loads_what_was_saved(engine):
    key = saved_session(engine, user="7", seen=1_900_000_000)
    cache.clear()
    assert engine.SessionStore(key).load() == {"user": "7", "seen": 1_900_000_000}


@pytest.mark.parametrize("engine", [db, cached_db])
def test_an_expired_or_unknown_session_loads_empty_and_forgets_its_key(engine):
    expired = saved_session(engine, user="7")
    SignedInSession.objects.filter(session_key=expired).update(expire_date=timezone.now() - timedelta(seconds=1))
    cache.clear()
    for key in (expired, "no-such-session-key-0123456789ab"):
        store = engine.SessionStore(key)
        assert store.load() == {}
        assert store.session_key is None  # a new key is made when it is saved: never the stale one


def test_a_session_is_read_afresh_each_time(django_assert_num_queries):
    key = saved_session(step=1)
    first = db.SessionStore(key)
    first["step"] = 2
    first.save()
    with django_assert_num_queries(1):
        assert db.SessionStore(key).load()["step"] == 2


@pytest.mark.parametrize("engine", [db, cached_db])
def test_the_row_names_its_signed_in_user_and_its_read_brings_them(engine, responder, django_assert_num_queries):
    user = responder
    anonymous = saved_session(engine, step=1)
    signed_in = saved_session(engine, **{SESSION_KEY: str(user.pk)})
    assert SignedInSession.objects.get(session_key=anonymous).user_id is None
    assert SignedInSession.objects.get(session_key=signed_in).user_id == user.pk
    cache.clear()
    store = db.SessionStore(signed_in)
    with django_assert_num_queries(1):
        store.load()
        assert store.signed_in_user.pk == user.pk and store.signed_in_user.organization_id == user.organization_id
    assert set(store.signed_in_user.signed_in_group_permissions.split()) == {
        perm for perm in user.get_all_permissions() if perm not in (store.signed_in_user.signed_in_own_permissions or "").split()}


def test_deleting_a_user_ends_their_sessions(client, responder):
    user = responder
    client.force_login(user)
    assert SignedInSession.objects.filter(user=user).count() == 1
    user.delete()
    assert not SignedInSession.objects.exists()


def test_the_site_uses_them(settings):
    assert settings.SESSION_ENGINE == "cases.access.sessions.db"
    assert "cases.views.middleware.SignedInUserMiddleware" in settings.MIDDLEWARE
    assert "django.contrib.auth.middleware.AuthenticationMiddleware" not in settings.MIDDLEWARE
