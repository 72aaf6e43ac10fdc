"""On PostgreSQL, refuse UPDATE and DELETE on the timeline table, whoever asks."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION irt_timeline_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'cases_timelineevent is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER cases_timelineevent_append_only
    BEFORE UPDATE OR DELETE ON cases_timelineevent
    FOR EACH ROW EXECUTE FUNCTION irt_timeline_append_only();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS cases_timelineevent_append_only ON cases_timelineevent;
DROP FUNCTION IF EXISTS irt_timeline_append_only();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("cases", "0002_roles")]

    operations = [migrations.RunPython(forward, backward)]
