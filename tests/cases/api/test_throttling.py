"""The per-token rate: a sliding window kept in two counters, whatever the rate."""

import pytest
from django.core.cache import cache

from cases.api import throttling
from tests.cases.api.conftest import ApiClient, token_for


@pytest.fixture
def clock(monkeypatch):
    now = {"t": 1_800_000_000.0}  # the start of a minute
    monkeypatch.setattr(throttling.time, "time", lambda: now["t"])
    return now


def test_the_count_is_two_integers_however_many_requests_came(db, responder, settings, clock):
    settings.IRT_API_RATE = "1000/min"
    client = ApiClient(token_for(responder, "cases:read"))
    for _ in range(30):
        assert client.get("/api/v1/cases/").status_code == 200
    key = f"throttle_token_{client_token_pk(responder)}:{int(clock['t'] // 60)}"
    assert cache.get(key) == 30


def test_the_previous_window_counts_for_the_part_that_still_overlaps(db, responder, settings, clock):
    settings.IRT_API_RATE = "4/min"
    client = ApiClient(token_for(responder, "cases:read"))
    clock["t"] += 50  # four requests late in one minute
    assert [client.get("/api/v1/cases/").status_code for _ in range(4)] == [200] * 4
    assert client.get("/api/v1/cases/").status_code == 429
    # 15 s into the next minute, 3/4 of those four still count: 3 + 0 >= 4 is false, so one more fits.
    clock["t"] += 25
    assert client.get("/api/v1/cases/").status_code == 200
    refused = client.get("/api/v1/cases/")
    assert refused.status_code == 429
    # 3 (previous, weighted 0.75) + 1 = 4: it fits again once the weight is below 3/4, i.e. right away
    # after the next second or so, never later than the window's end.
    assert 1 <= int(refused["Retry-After"]) <= 45


def test_retry_after_waits_out_a_full_window(db, responder, settings, clock):
    settings.IRT_API_RATE = "2/min"
    client = ApiClient(token_for(responder, "cases:read"))
    assert [client.get("/api/v1/cases/").status_code for _ in range(3)] == [200, 200, 429]
    refused = client.get("/api/v1/cases/")
    # Both requests were at second 0: the window ends in 60 s, then the previous count must slide out.
    assert int(refused["Retry-After"]) == 60
    clock["t"] += 60
    assert client.get("/api/v1/cases/").status_code == 429  # the previous two still weigh fully
    clock["t"] += 1
    assert client.get("/api/v1/cases/").status_code == 200


def client_token_pk(user):
    from cases.models import ApiToken

    return ApiToken.objects.filter(user=user).values_list("pk", flat=True).get()
