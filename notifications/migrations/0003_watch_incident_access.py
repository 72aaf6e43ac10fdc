"""The watched-table trigger of 0002 on what decides a customer's access to an incident page (irt/watched_reads.py).

The portal's incident page and index keep the row that decides access until a table it read changes
(``cases.access.lookups.get_incident_page_for``, ``cases.selectors.portal.first_index_rows``). Besides
the tables 0002 watches, that read names the organisations' groups, the grants on cases and the
published updates; ``irt.watched_reads`` keeps nothing that read an unwatched table, so without this
migration those reads are simply made on every request.
"""

from django.db import migrations

FUNCTION = "irt_watched_table_changed"  # created by 0002
TRIGGER = "irt_watched_table_changed"
MODELS = (("auth", "Group"), ("cases", "CaseGroupObjectPermission"), ("cases", "IncidentUpdate"))


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for app, name in MODELS:
        quoted = schema_editor.quote_name(apps.get_model(app, name)._meta.db_table)
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON {quoted}")
        schema_editor.execute(f"CREATE TRIGGER {TRIGGER} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {quoted} "
                              f"FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()")


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for app, name in MODELS:
        schema_editor.execute(
            f"DROP TRIGGER IF EXISTS {TRIGGER} ON {schema_editor.quote_name(apps.get_model(app, name)._meta.db_table)}")


class Migration(migrations.Migration):
    dependencies = [("notifications", "0002_watched_table_notifications")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
