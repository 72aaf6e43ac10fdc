"""A kept database connection that the server dropped is replaced before a request uses it.

The health check asks the socket, not the server (``irt/db/postgresql/base.py``): these tests
show it costs no query on a live connection and still catches a connection the server ended.
"""

import os
import time

import pytest
from django.db import connection

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL backend's health check")


def live_backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def end_backend_from_another_session(pid: int) -> None:
    import psycopg

    settings = connection.settings_dict
    with psycopg.connect(host=settings["HOST"], port=settings["PORT"] or 5432, user=settings["USER"],
                         dbname=settings["NAME"], autocommit=True) as other:
        assert other.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0]


def checked_without_a_query() -> bool:
    """Run the health check on the live connection; return its answer, failing if it asked the server anything."""
    raw, calls = connection.connection, []
    # Django's own check opens a cursor on the driver's connection and runs SELECT 1 there.
    for name in ("cursor", "execute"):
        original = getattr(raw, name)
        setattr(raw, name, lambda *args, _original=original, _name=name, **kwargs: calls.append(_name) or _original(*args, **kwargs))
    try:
        usable = connection.is_usable()
    finally:
        del raw.cursor, raw.execute
    assert calls == []
    return usable


@pytest.mark.django_db(transaction=True)
def test_a_live_connection_passes_the_check_without_a_query():
    assert connection.settings_dict["ENGINE"] == "irt.db.postgresql"
    live_backend_pid()
    assert checked_without_a_query()


@pytest.mark.django_db(transaction=True)
def test_a_connection_above_descriptor_1024_is_checked_too():
    """select() cannot watch a descriptor above 1024; a worker holding hundreds of webhook sockets has one."""
    spare = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    try:
        connection.close()
        live_backend_pid()
        assert connection.connection.fileno() > 1024
        assert checked_without_a_query()
    finally:
        for descriptor in spare:
            os.close(descriptor)
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_a_connection_the_server_ended_is_replaced_before_the_next_request_uses_it():
    first = live_backend_pid()
    end_backend_from_another_session(first)
    deadline = time.monotonic() + 5
    while connection.is_usable():  # the server's goodbye reaches the socket within milliseconds
        assert time.monotonic() < deadline, "the ended connection still looked usable after 5 s"
        time.sleep(0.02)
    # A new request: Django runs the health check before its first query, and replaces the connection.
    connection.health_check_enabled, connection.health_check_done = True, False
    connection.close_if_health_check_failed()
    assert live_backend_pid() != first
