"""Triggers telling every process when a row a signed-in read came from changed (cases/access/sessions/memo.py).

PostgreSQL only (the kept reads are off elsewhere). Statement-level, so a bulk change sends one
notification per table, delivered when its transaction commits. A new session row changes no kept
read (its key was never read), so sessions notify on update, delete and truncate only; a new
permission, group membership or device does change what a kept user may do, so those notify on
inserts too.
"""

from django.db import migrations

FUNCTION = "irt_signed_in_changed"
TRIGGER = "irt_signed_in_changed"


def _tables(apps) -> dict[str, str]:
    """Each table the signed-in read joins, with the statements that notify."""
    user = apps.get_model("cases", "User")
    group = apps.get_model("auth", "Group")
    every = "INSERT OR UPDATE OR DELETE OR TRUNCATE"
    tables = {apps.get_model("cases", "SignedInSession")._meta.db_table: "UPDATE OR DELETE OR TRUNCATE"}
    for model in (user, user.groups.through, user.user_permissions.through, group.permissions.through,
                  apps.get_model("auth", "Permission"), apps.get_model("contenttypes", "ContentType"),
                  apps.get_model("cases", "Organization"), apps.get_model("otp_totp", "TOTPDevice"),
                  apps.get_model("otp_static", "StaticDevice")):
        tables[model._meta.db_table] = every
    return tables


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"""
        CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('irt_signed_in', TG_TABLE_NAME);
            RETURN NULL;
        END
        $$""")
    for table, events in _tables(apps).items():
        quoted = schema_editor.quote_name(table)
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON {quoted}")
        schema_editor.execute(
            f"CREATE TRIGGER {TRIGGER} AFTER {events} ON {quoted} FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()")


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in _tables(apps):
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON {schema_editor.quote_name(table)}")
    schema_editor.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0004_signed_in_sessions"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("otp_totp", "0003_add_timestamps"),
        ("otp_static", "0003_add_timestamps"),
    ]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
