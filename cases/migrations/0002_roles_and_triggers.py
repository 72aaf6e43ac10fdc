"""Create the staff teams, and on PostgreSQL the triggers that keep the record tamper-evident.

``0001_initial`` is what ``makemigrations`` writes from the models; this file holds the steps the
autodetector cannot see, so regenerating the schema never loses them.

The triggers make the database itself refuse what the services never do, whoever connects: the
timeline and the evidence custody log are append-only (no UPDATE, no DELETE), and an evidence
item is write-once (no DELETE, and what was collected never changes; only the supersession,
verification and purge columns do). SQLite has no such triggers; the hash chain
(``verify_timeline``) and the stored hashes (``verify_evidence``) still detect tampering there.
"""

from django.db import migrations

# The columns that record what was collected (RFC 3227 §4.1): fixed once the item is stored.
EVIDENCE_AS_COLLECTED = (
    "case_id",
    "original_name",
    "stored_name",
    "size",
    "sha256",
    "declared_sha256",
    "uploaded_by_id",
    "uploaded_at",
)


def refuse(message: str, *arguments: str) -> str:
    """Return the PL/pgSQL statement that aborts the change with ``message`` (``%`` takes an argument)."""
    values = "".join(f", {argument}" for argument in arguments)
    return f"RAISE EXCEPTION '{message}'{values} USING ERRCODE = 'insufficient_privilege';"


def guard_trigger(table: str, guard: str, body: str) -> tuple[str, str]:
    """Return the SQL that creates, and the SQL that drops, a trigger running ``body`` before UPDATE or DELETE."""
    function = f"irt_{table.removeprefix('cases_')}_{guard}"
    trigger = f"{table}_{guard}"
    create = f"""
CREATE OR REPLACE FUNCTION {function}() RETURNS trigger AS $$
BEGIN
    {body}
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER {trigger}
    BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {function}();
"""
    drop = f"DROP TRIGGER IF EXISTS {trigger} ON {table}; DROP FUNCTION IF EXISTS {function}();"
    return create, drop


def append_only(table: str) -> tuple[str, str]:
    """Refuse every UPDATE and DELETE on ``table``."""
    return guard_trigger(table, "append_only", refuse(f"{table} is append-only: % refused", "TG_OP"))


def write_once(table: str, fixed_columns: tuple[str, ...]) -> tuple[str, str]:
    """Refuse DELETE on ``table``, and any UPDATE that changes one of ``fixed_columns``."""
    changed = "\n        OR ".join(f"NEW.{column} IS DISTINCT FROM OLD.{column}" for column in fixed_columns)
    body = f"""IF TG_OP = 'DELETE' THEN
        {refuse(f"{table} is write-once: DELETE refused")}
    END IF;
    IF {changed} THEN
        {refuse(f"{table} is write-once: what was collected cannot change")}
    END IF;
    RETURN NEW;"""
    return guard_trigger(table, "write_once", body)


TRIGGERS = [
    append_only("cases_timelineevent"),
    write_once("cases_evidence", EVIDENCE_AS_COLLECTED),
    append_only("cases_evidenceaccess"),
]


def create_teams(apps, schema_editor):
    from cases.access.roles import ensure_teams

    ensure_teams(apps=apps, using=schema_editor.connection.alias)


def remove_teams(apps, schema_editor):
    from cases.access.roles import TEAMS

    apps.get_model("auth", "Group").objects.using(schema_editor.connection.alias).filter(name__in=TEAMS).delete()


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for create, _ in TRIGGERS:
            schema_editor.execute(create, params=None)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for _, drop in reversed(TRIGGERS):
            schema_editor.execute(drop, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(create_teams, remove_teams),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
