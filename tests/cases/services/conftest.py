"""Fixtures the timeline test modules share."""

import pytest
from django.db import connection


@pytest.fixture
def tamperable(db):
    """Let the test rewrite history as the owner of the table could (the insider of issue 14).

    On PostgreSQL the append-only trigger is disabled for the test and enabled again afterwards
    (the test's transaction is rolled back as well), so detection is tested on both engines; that
    the trigger refuses is tested on its own in test_timeline.py.
    """
    statement = "ALTER TABLE cases_timelineevent {} TRIGGER cases_timelineevent_append_only"
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(statement.format("DISABLE"))
    yield
    with connection.cursor() as cursor:
        # Deferred foreign-key checks of the test's rows are pending; ALTER TABLE refuses to run
        # while they are, so they are checked now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(statement.format("ENABLE"))
