"""The shared cache on Redis (REDIS_URL): shared between processes, and a Redis outage is only a miss.

These tests need the Redis that CI starts; elsewhere they skip unless IRT_REQUIRE_REDIS=1 (CI sets
it, so there they fail instead of skipping).
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.cache import caches
from django.urls import reverse

from irt.cache import ForgivingRedisCache
from tests.cases.api.conftest import ApiClient, token_for

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("IRT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
# Nothing listens on port 1: every connection is refused at once, as when Redis is down.
DEAD_REDIS_URL = "redis://127.0.0.1:1/0"


def redis_cache(location: str) -> dict:
    return {"default": {"BACKEND": "irt.cache.ForgivingRedisCache", "LOCATION": location,
                        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}}}


@pytest.fixture
def redis_settings(settings):
    probe = ForgivingRedisCache(REDIS_URL, {})
    try:
        probe._cache.get_client(write=True).ping()
    except Exception as error:  # noqa: BLE001 - any failure means there is no Redis to test against
        if os.environ.get("IRT_REQUIRE_REDIS") == "1":
            pytest.fail(f"IRT_REQUIRE_REDIS=1 but Redis at {REDIS_URL} does not answer: {error}")
        pytest.skip(f"no Redis at {REDIS_URL}")
    settings.CACHES = redis_cache(REDIS_URL)
    caches["default"].clear()
    yield settings
    caches["default"].clear()


def test_the_api_rate_is_counted_in_redis_where_every_web_process_sees_it(db, responder, redis_settings):
    redis_settings.IRT_API_RATE = "2/min"
    client = ApiClient(token_for(responder, "cases:read"))
    assert [client.get("/api/v1/cases/").status_code for _ in range(3)] == [200, 200, 429]
    # Another web process: its own connection to the same Redis, and the same count.
    other_process = ForgivingRedisCache(REDIS_URL, {})
    assert ApiClient(client.token).get("/api/v1/cases/").status_code == 429
    keys = other_process._cache.get_client().keys("*throttle_token*")
    assert len(keys) == 1


def test_a_redis_outage_is_a_miss_within_the_socket_timeout(settings):
    settings.CACHES = redis_cache(DEAD_REDIS_URL)
    cache = caches["default"]
    started = time.monotonic()
    cache.set("k", "v")
    assert cache.get("k", "missing") == "missing" and cache.get_many(["k"]) == {} and cache.add("k", "v") is False
    assert time.monotonic() - started < 3


def test_pages_and_the_api_keep_working_while_redis_is_down(client, db, responder, settings):
    settings.CACHES = redis_cache(DEAD_REDIS_URL)
    settings.SESSION_ENGINE = "cases.access.sessions.cached_db"
    assert client.get(reverse("lessons:index")).status_code == 200
    assert ApiClient(token_for(responder, "cases:read")).get("/api/v1/cases/").status_code == 200
    client.force_login(responder)
    assert client.get(reverse("cases:dashboard")).status_code == 200


def test_redis_url_turns_on_the_shared_cache_and_cached_sessions():
    env = {**os.environ, "REDIS_URL": "redis://cache.internal:6379/2", "DJANGO_SETTINGS_MODULE": "irt.settings"}
    out = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import settings as s; "
                               "print(s.CACHES['default']['BACKEND'], s.CACHES['default']['LOCATION'], s.SESSION_ENGINE)"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True,
    ).stdout.split()
    assert out == ["irt.cache.ForgivingRedisCache", "redis://cache.internal:6379/2", "cases.access.sessions.cached_db"]
