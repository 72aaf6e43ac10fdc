"""The session engines read what Django's read, with the query compiled once (``cases/access/sessions``)."""

from datetime import timedelta

import pytest
from django.contrib.sessions.backends import db as django_db
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.utils import timezone

from cases.access.sessions import cached_db, db

pytestmark = pytest.mark.django_db


def saved_session(**data) -> str:
    store = django_db.SessionStore()
    store.update(data)
    store.create()
    return store.session_key


@pytest.mark.parametrize("engine", [db, cached_db])
def test_a_live_session_loads_as_djangos_engine_loads_it(engine):
    key = saved_session(user="7", seen=1_900_000_000)
    cache.clear()
    assert engine.SessionStore(key).load() == django_db.SessionStore(key).load() == {"user": "7", "seen": 1_900_000_000}


@pytest.mark.parametrize("engine", [db, cached_db])
def test_an_expired_or_unknown_session_loads_empty_and_forgets_its_key(engine):
    expired = saved_session(user="7")
    Session.objects.filter(session_key=expired).update(expire_date=timezone.now() - timedelta(seconds=1))
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


def test_the_site_uses_them(settings):
    assert settings.SESSION_ENGINE == "cases.access.sessions.db"
