"""Fixtures the service test modules share: a tamperable timeline, a connector's service account, evidence storage."""

import pytest
from django.db import connection

from tests.factories import UserFactory


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


@pytest.fixture
def connector(db):
    """A connector's service account: it may send alerts and do nothing else."""
    from django.contrib.auth.models import Permission

    user = UserFactory(username="sentinel-connector", is_service_account=True)
    from django.contrib.contenttypes.models import ContentType

    from cases.models import Alert

    # A transactional test's flush may have emptied the permission and content-type tables (and
    # left the content-type cache pointing at deleted rows), so both are made again if missing.
    ContentType.objects.clear_cache()
    permission, _ = Permission.objects.get_or_create(
        content_type=ContentType.objects.get_for_model(Alert), codename="add_alert", defaults={"name": "Can add alert"}
    )
    user.user_permissions.add(permission)
    return user


@pytest.fixture
def storage_dir(settings, tmp_path):
    """Keep evidence and upload temporary files in this test's own directories; return the evidence store's."""
    location = tmp_path / "evidence-store"
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    settings.STORAGES = {
        **settings.STORAGES,
        "evidence": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": location, "file_permissions_mode": 0o440},
        },
    }
    settings.FILE_UPLOAD_TEMP_DIR = str(incoming)
    settings.IRT_EVIDENCE_MAX_BYTES = 4 * 1024 * 1024
    return location
