"""Public pages kept in each process's memory, forgotten when a publication is announced (irt/public_memo.py).

These tests commit (``transaction=True``), as real requests do, so PostgreSQL delivers the
notifications; the shared cache is the real Redis, the only kind of cache the memo serves in front of.
"""

import pytest
from django.db import connection
from django.urls import reverse

from irt import middleware, public_memo
from irt.listening import listener, notify
from irt.public_memo import public_page_memo
from tests.irt.test_cache_headers import public_review  # noqa: F401 - a fixture
from tests.irt.test_public_page_versions import publish_review, urls
from tests.irt.test_redis_cache import redis_settings  # noqa: F401 - a fixture
from tests.listening import settled, until

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the notifications are PostgreSQL's"),
]


@pytest.fixture
def memo(redis_settings):  # noqa: F811
    redis_settings.IRT_PUBLIC_PAGE_MEMO = True
    public_page_memo.forget_all()
    until(public_page_memo.usable, "the listener is heard from")
    yield public_page_memo
    listener.stop_listening()  # the test database cannot be dropped while the listener is connected to it


@pytest.fixture
def cache_calls(monkeypatch):
    """The names of the shared cache's methods the fast path calls (each one a Redis round trip)."""
    from django.core.cache import cache

    calls = []

    class Counting:
        def __getattr__(self, name):
            calls.append(name)
            return getattr(cache, name)

    monkeypatch.setattr(middleware, "cache", Counting())
    return calls


def test_a_kept_public_page_is_answered_from_memory_without_a_round_trip(memo, client, public_review, cache_calls):  # noqa: F811
    for url in urls(public_review):
        first = client.get(url)  # rendered, and kept in the shared cache
        client.get(url)  # served from the shared cache, and kept in memory
        cache_calls.clear()
        again = client.get(url)
        not_modified = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
        assert cache_calls == [], f"{url}: {cache_calls}"
        assert again.status_code == 200 and again.content == first.content and again["ETag"] == first["ETag"]
        assert not_modified.status_code == 304 and not again.cookies


def test_each_answer_is_the_requests_own_copy(memo, client, public_review):  # noqa: F811
    url = reverse("lessons:index")
    client.get(url)
    client.get(url)
    client.get(url)["X-Changed-By-One-Request"] = "yes"
    assert "X-Changed-By-One-Request" not in client.get(url)


def test_a_publication_shows_in_every_process_within_a_second(memo, client, manager, comms, public_review):  # noqa: F811
    for url in urls(public_review):
        client.get(url)
        client.get(url)
    assert all(client.get(url).status_code == 200 for url in urls(public_review))
    # Nothing here tells the memo directly: the new generation is drawn and announced after the commit, as from another process.
    publish_review(manager, comms, "A second public review")
    for url in (reverse("lessons:index"), reverse("lessons:feed")):
        until(lambda url=url: b"A second public review" in client.get(url).content, f"{url} shows the new review", seconds=1)


def test_a_listener_not_heard_from_means_the_shared_cache_is_asked(memo, client, public_review, cache_calls):  # noqa: F811
    url = reverse("lessons:index")
    client.get(url)
    client.get(url)
    listener._alive_until = 0.0  # as if its pings had stopped arriving
    cache_calls.clear()
    assert client.get(url).status_code == 200
    assert cache_calls == ["get_many"]


def test_a_response_read_before_a_publication_is_not_kept(memo):
    stamp = memo.stamp()
    memo.forget_all()  # a notification heard while the shared cache was being read
    memo.keep("read-before", stamp, {"a": 1})
    assert memo.get("read-before") is None
    memo.keep("read-after", memo.stamp(), {"a": 1})
    assert memo.get("read-after") == {"a": 1}


def test_a_kept_response_serves_for_a_bounded_time(memo, monkeypatch):
    monkeypatch.setattr(public_memo, "MAX_AGE", 0.0)
    memo.keep("kept", memo.stamp(), {"a": 1})
    assert memo.get("kept") is None


def test_an_announcement_makes_every_process_forget(memo):
    memo.keep("kept", memo.stamp(), {"a": 1})
    public_memo.published("lessons")
    until(lambda: memo.get("kept") is None, "the announcement is heard", seconds=1)


def test_not_used_with_a_process_local_cache(db, settings):
    settings.IRT_PUBLIC_PAGE_MEMO = True
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert not public_page_memo.usable()


def test_a_channel_subscribed_late_is_listened_to_before_it_counts(memo):
    heard = []
    listener.subscribe("irt_test_late_channel", heard.append)
    until(lambda: listener.heard_lately("irt_test_late_channel"), "the new channel is listened to")
    assert heard == [None], "whatever was kept before it listened is forgotten"
    settled()
    notify("irt_test_late_channel", "changed")
    until(lambda: heard == [None, "changed"], "its notification is heard", seconds=1)


def test_switched_off_a_publication_announces_nothing(db, settings, django_assert_num_queries):
    settings.IRT_PUBLIC_PAGE_MEMO = False
    with django_assert_num_queries(0):
        public_memo.published("lessons")
