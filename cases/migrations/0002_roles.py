"""Create the staff teams with their permissions (the table lives in ``cases.access.roles``)."""

from django.db import migrations


def create_teams(apps, schema_editor):
    from cases.access.roles import ensure_teams

    ensure_teams(apps=apps, using=schema_editor.connection.alias if schema_editor else "default")


def remove_teams(apps, schema_editor):
    from cases.access.roles import TEAMS

    apps.get_model("auth", "Group").objects.filter(name__in=TEAMS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_teams, remove_teams)]
