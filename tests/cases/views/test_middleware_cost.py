"""What the staff middleware stack costs a request: a fixed number of reads, and no write on every request."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.services import sessions
from cases.views import middleware

pytestmark = pytest.mark.django_db

# The session joined with the user, their permissions and second-factor devices: one query (cases.access.sessions).
STAFF_TRIVIAL_QUERIES = 1


@pytest.fixture
def trivial(settings):
    settings.ROOT_URLCONF = "benchmarks.urls"
    return "/bench/trivial"


def writes(queries) -> list[str]:
    """PostgreSQL wraps each part of a UNION in parentheses, so a read may start with "(SELECT"."""
    return [q["sql"] for q in queries
            if not q["sql"].lstrip(" (").upper().startswith(("SELECT", "SAVEPOINT", "RELEASE"))]


def test_staff_trivial_view_costs_a_fixed_number_of_reads(client, manager, trivial, django_assert_num_queries):
    client.force_login(manager)
    client.get(trivial)
    with django_assert_num_queries(STAFF_TRIVIAL_QUERIES):
        assert client.get(trivial).status_code == 200


def test_last_seen_is_written_at_most_once_a_minute(client, manager, trivial, monkeypatch):
    clock = [1_900_000_000.0]
    monkeypatch.setattr(middleware.time, "time", lambda: clock[0])
    client.force_login(manager)
    client.get(trivial)
    first = client.session[sessions.LAST_SEEN_KEY]
    for seconds in (1, 30, 59):
        clock[0] = first + seconds
        with CaptureQueriesContext(connection) as ctx:
            client.get(trivial)
        assert writes(ctx.captured_queries) == []
        assert client.session[sessions.LAST_SEEN_KEY] == first
    clock[0] = first + middleware.LAST_SEEN_PRECISION_SECONDS
    with CaptureQueriesContext(connection) as ctx:
        client.get(trivial)
    assert len(writes(ctx.captured_queries)) == 1
    assert client.session[sessions.LAST_SEEN_KEY] == first + middleware.LAST_SEEN_PRECISION_SECONDS


def test_anonymous_trivial_view_touches_no_database(client, trivial, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert client.get(trivial).status_code == 200


def test_a_signed_in_request_reads_its_user_itself_not_through_proxies(client, manager, trivial):
    """Django's and django-otp's middleware wrap the user in two lazy proxies; once resolved, the page reads the user."""
    from cases.models import User

    client.force_login(manager)
    response = client.get(trivial)
    assert response.status_code == 200
    user = response.wsgi_request.user
    assert type(user) is User and user.pk == manager.pk
    # What django-otp put on it while it was wrapped is on the user itself.
    assert user.is_verified() is True and user.otp_device.persistent_id == client.session["otp_device_id"]


def test_an_anonymous_request_leaves_the_user_unread(client, trivial):
    from django.utils.functional import LazyObject, empty

    user = client.get(trivial).wsgi_request.user
    assert isinstance(user, LazyObject) and user._wrapped is empty
