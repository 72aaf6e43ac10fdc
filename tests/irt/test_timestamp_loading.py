"""Timestamps read with psycopg's compiled loader where it gives Django's datetimes (irt/db/postgresql/base.py).

Django loads every ``timestamptz`` through a pure-Python subclass of psycopg's loader that stamps the
connection's time zone; when both the connection and Django read in UTC, psycopg's own compiled loader
gives the same datetimes. These tests compare the two over awkward values and show that any other
time zone goes back to Django's loader.
"""

import datetime

import pytest
from django.db import connection, connections
from django.db.backends.postgresql.psycopg_any import register_tzloader
from psycopg.pq import Format

from irt.db.postgresql import base as backend

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the loaders are psycopg's"),
]

VALUES = ["2026-12-04 20:41:07.123456+00", "2026-12-04 21:41:07+01", "1999-12-31 23:59:59.999999-05:30", "0001-01-01 00:00:00+00",
          "9999-12-30 23:59:59.999999+00", "2024-02-29 12:00:00+14"]
QUERY = "SELECT " + ", ".join(f"'{value}'::timestamptz" for value in VALUES)


def loader():
    return connection.connection.adapters.get_loader(backend._TIMESTAMPTZ_OID, Format.TEXT)


def read_all():
    with connection.cursor() as cursor:
        cursor.execute(QUERY)
        return cursor.fetchone()


def test_the_compiled_loader_reads_what_django_s_reads():
    connection.ensure_connection()
    assert loader() is backend._COMPILED_TIMESTAMPTZ_LOADER
    compiled = read_all()
    register_tzloader(connection.timezone, connection.connection)  # Django's own, on this connection
    try:
        assert loader() is not backend._COMPILED_TIMESTAMPTZ_LOADER
        django_s = read_all()
    finally:
        connection.connection.adapters.register_loader("timestamptz", backend._COMPILED_TIMESTAMPTZ_LOADER)
    assert compiled == django_s
    assert [value.tzinfo for value in compiled] == [value.tzinfo for value in django_s] == [datetime.UTC] * len(VALUES)
    assert [value.utcoffset() for value in compiled] == [datetime.timedelta(0)] * len(VALUES)


@pytest.mark.django_db(transaction=True)  # it opens a connection of its own, outside any test transaction
def test_another_time_zone_goes_back_to_django_s_loader():
    connection.ensure_connection()
    utc = read_all()
    try:
        connection.settings_dict["TIME_ZONE"] = "Europe/Paris"
        forget_time_zone()
        connection.close()  # a new connection, set to the new time zone
        with connection.cursor() as cursor:
            cursor.execute(QUERY)
            paris = cursor.fetchone()
        assert loader() is not backend._COMPILED_TIMESTAMPTZ_LOADER
        assert [value.tzinfo for value in paris] == [connection.timezone] * len(VALUES)
        assert paris == utc  # the same moments, in the other time zone
    finally:
        connection.settings_dict["TIME_ZONE"] = None
        forget_time_zone()
        connection.close()


def forget_time_zone():
    """Drop Django's cached time zone of the connection, as its setting_changed receiver does."""
    for name in ("timezone", "timezone_name"):
        connections["default"].__dict__.pop(name, None)  # the wrapper's own, not the proxy's


def test_a_named_cursor_reads_the_same_datetimes():
    """``.iterator()`` reads through a named (server-side) cursor, which Django creates after checking its loader."""
    from cases.models import TimelineEvent
    from tests.factories import CaseFactory

    CaseFactory()
    connection.ensure_connection()
    listed = list(TimelineEvent.objects.order_by("pk").values_list("at", flat=True))
    with connection.cursor():  # the unnamed cursors after it still use the compiled loader
        pass
    iterated = list(TimelineEvent.objects.order_by("pk").values_list("at", flat=True).iterator(chunk_size=1))
    assert listed and iterated == listed and {value.tzinfo for value in iterated} == {datetime.UTC}
    assert loader() is backend._COMPILED_TIMESTAMPTZ_LOADER
