"""A copy in each process of what the shared cache holds for signed-in pages (irt/near_cache.py).

These tests commit (``transaction=True``), as real requests do, so PostgreSQL delivers the
notifications; the shared cache is the real Redis, the only kind of cache the near copy serves in front of.
"""

import secrets

import pytest
from django.core.cache import cache
from django.core.cache.backends.redis import RedisCacheClient
from django.db import connection, transaction
from django.urls import reverse

from cases.services import customer_questions
from irt import near_cache as near_module
from irt.cache import Generations
from irt.listening import listener, notify
from irt.near_cache import CHANNEL, near_cache
from tests.cases.services.test_customer_questions import incident  # noqa: F401 - a fixture
from tests.irt.test_redis_cache import redis_settings  # noqa: F401 - a fixture
from tests.listening import until

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the notifications are PostgreSQL's"),
]


@pytest.fixture
def near(redis_settings):  # noqa: F811
    redis_settings.IRT_NEAR_CACHE = True
    near_cache.forget_generational()
    near_cache._fixed.entries.clear()
    until(near_cache.usable_for_generations, "the listener is heard from")
    yield near_cache
    listener.stop_listening()  # the test database cannot be dropped while the listener is connected to it


@pytest.fixture
def round_trips(monkeypatch):
    """The Redis commands made, by the name of the cache method that made them."""
    made = []
    for name in ("get", "get_many", "set", "set_many", "add", "delete", "incr", "has_key"):
        real = getattr(RedisCacheClient, name)
        monkeypatch.setattr(RedisCacheClient, name, lambda self, *args, _real=real, _name=name, **kwargs:
                            made.append(_name) or _real(self, *args, **kwargs))
    return made


def test_signed_in_pages_read_again_make_no_round_trip(near, client, incident, contoso_user, manager, round_trips):  # noqa: F811
    client.force_login(contoso_user)
    customer_pages = [reverse("portal:incident", args=[incident.reference]), reverse("portal:index")]
    staff = client.__class__()
    staff.force_login(manager)
    staff_pages = [reverse("cases:dashboard"), reverse("cases:list"), reverse("cases:detail", args=[incident.reference])]
    for reader, pages in ((client, customer_pages), (staff, staff_pages)):
        for url in pages:
            first = reader.get(url)
            reader.get(url)
            round_trips.clear()
            again = reader.get(url)
            assert again.status_code == 200 and round_trips == [], f"{url}: {round_trips}"
            assert again.content.count(b"csrfmiddlewaretoken") == first.content.count(b"csrfmiddlewaretoken")


def test_a_change_shows_on_the_next_request(near, client, incident, contoso_user, responder):  # noqa: F811
    client.force_login(contoso_user)
    url = reverse("portal:incident", args=[incident.reference])
    client.get(url)
    client.get(url)
    question = customer_questions.ask_question(case=incident, by=contoso_user, text="Which buckets were read?")
    customer_questions.reply_to_question(question=question, by=responder, text="Only contoso-exports.")
    until(lambda: b"Which buckets were read?" in client.get(url).content, "the question shows", seconds=1)


def test_a_value_changed_in_another_process_is_forgotten_when_announced(near):
    values = Generations(f"test-near-{secrets.token_hex(4)}")
    truth = {"now": "old"}
    assert values.get("x", lambda: truth["now"]) == "old"
    truth["now"] = "new"
    # Another process: draws the new generation in Redis (this process is not told) ...
    cache.set(values.generation_key("x"), "another-process", None)
    assert values.get("x", lambda: truth["now"]) == "old", "the copy here serves until the change is announced"
    # ... and announces it after its commit.
    notify(CHANNEL, values.prefix)
    until(lambda: values.get("x", lambda: truth["now"]) == "new", "the announced change is read", seconds=1)


def test_this_process_reads_its_own_change_at_once(near):
    values = Generations(f"test-near-{secrets.token_hex(4)}")
    truth = {"now": "old"}
    values.get("x", lambda: truth["now"])
    truth["now"] = "new"
    with transaction.atomic():
        values.forget(["x"])
        assert values.get("x", lambda: truth["now"]) == "new"
    assert values.get("x", lambda: truth["now"]) == "new"


def test_a_value_read_inside_a_transaction_is_not_kept(near):
    values = Generations(f"test-near-{secrets.token_hex(4)}")
    with transaction.atomic():
        values.get("x", lambda: "maybe rolled back")
    assert near.get_generational(f"{values.prefix}:x:") is None


def test_a_value_read_before_an_announcement_is_not_kept(near):
    stamp = near.stamp()
    near.forget_generational()  # an announcement heard while the shared cache was being read
    near.keep_generational("read-before", stamp, ("value", "generation"))
    assert near.get_generational("read-before") is None
    near.keep_generational("read-after", near.stamp(), ("value", "generation"))
    assert near.get_generational("read-after") == ("value", "generation")


def test_a_listener_not_heard_from_means_the_shared_cache_is_asked(near, round_trips):
    values = Generations(f"test-near-{secrets.token_hex(4)}")
    values.get("x", lambda: 1)
    listener._alive_until = 0.0  # as if its pings had stopped arriving
    round_trips.clear()
    assert values.get("x", lambda: 1) == 1
    assert round_trips == ["get_many"]


def test_fixed_entries_are_asked_of_the_shared_cache_once_and_each_read_gets_its_own_copy(near, round_trips):
    cache.set("fixed-a", {"html": "a"}, 60)
    near.set_fixed("fixed-b", {"html": "b"}, 60)
    round_trips.clear()
    assert near.get_many_fixed(["fixed-a", "fixed-b", "fixed-none"]) == {"fixed-a": {"html": "a"}, "fixed-b": {"html": "b"}}
    assert round_trips == ["get_many"], "only the keys not kept here are asked for"
    round_trips.clear()
    near.get_fixed("fixed-a")["html"] = "changed by one request"
    assert near.get_fixed("fixed-a") == {"html": "a"} and round_trips == []


def test_a_kept_entry_serves_for_a_bounded_time(near, monkeypatch):
    monkeypatch.setattr(near_module, "MAX_AGE", 0.0)
    near.set_fixed("fixed-short", "value", 60)
    near.keep_generational("generational-short", near.stamp(), ("value", "generation"))
    assert near._fixed.get("fixed-short") is None and near.get_generational("generational-short") is None


def test_not_used_with_a_process_local_cache(db, settings, round_trips):
    settings.IRT_NEAR_CACHE = True
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    near_cache.set_fixed("local", "value", 60)
    assert not near_cache.usable_for_generations() and "local" not in near_cache._fixed.entries


def test_a_forget_committed_is_announced_to_every_process(near):
    values = Generations(f"test-near-{secrets.token_hex(4)}")
    with transaction.atomic():
        values.forget(["x"])  # this process forgets at once; what it keeps after that waits for the announcement
        near.keep_generational("kept", near.stamp(), ("value", "generation"))
    until(lambda: near.get_generational("kept") is None, "the announcement after the commit is heard", seconds=1)


def test_an_announcement_the_database_refuses_is_logged_not_raised(near, monkeypatch, caplog):
    from django.db import OperationalError

    from irt import listening

    def refused(channel, payload):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(listening, "notify", refused)
    near.announce("some-prefix")  # after a commit that succeeded: the request must not fail now
    assert "could not announce a change on irt_generations" in caplog.text


def test_switched_off_nothing_is_announced(db, settings, django_assert_num_queries):
    settings.IRT_NEAR_CACHE = False
    with django_assert_num_queries(0):
        Generations("test-near-off").forget(["x"])
