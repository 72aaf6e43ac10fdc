"""Triggers telling every process when a table that kept slot renderings read from changed (irt/watched_reads.py).

PostgreSQL only (nothing is kept elsewhere). Statement-level, so a bulk change sends one
notification per table, delivered when its transaction commits (PostgreSQL folds a transaction's
repeated notifications into one). Here, in the app whose migrations come after both apps' tables:
the case page's slots read from both. ``irt.watched_reads`` reads which tables carry the trigger
from the database itself, and keeps nothing that read from any other table.
"""

from django.db import migrations

FUNCTION = "irt_watched_table_changed"
TRIGGER = "irt_watched_table_changed"
CHANNEL = "irt_watched_tables"

# What the case page's alert panel, notice progress and receipts slots read (cases/views/pages.py), and the portal's
# subscription slot (cases/views/portal.py).
MODELS = (
    ("cases", "AlertGroup"), ("cases", "Alert"), ("cases", "AlertResource"), ("cases", "OrganizationTenant"),
    ("cases", "Observable"), ("cases", "CaseObservable"), ("cases", "Case"), ("cases", "CaseUserObjectPermission"),
    ("auth", "Permission"), ("cases", "AffectedCustomer"), ("cases", "Organization"), ("cases", "Acknowledgement"),
    ("cases", "User"), ("notifications", "Notification"), ("notifications", "Delivery"), ("notifications", "Subscription"),
)


def _tables(apps) -> list[str]:
    alert = apps.get_model("cases", "Alert")
    return [apps.get_model(app, name)._meta.db_table for app, name in MODELS] + [alert.observables.through._meta.db_table]


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"""
        CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', TG_TABLE_NAME);
            RETURN NULL;
        END
        $$""")
    for table in _tables(apps):
        quoted = schema_editor.quote_name(table)
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON {quoted}")
        schema_editor.execute(f"CREATE TRIGGER {TRIGGER} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {quoted} "
                              f"FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()")


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in _tables(apps):
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON {schema_editor.quote_name(table)}")
    schema_editor.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("cases", "0005_signed_in_change_notifications"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
