"""Create the staff teams with their permissions.

Permissions decide roles everywhere (``cases.access``), so a renamed group keeps working and
an admin can build a new team from the same permissions.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

TEAMS = {
    "Responders": ["work_case", "view_case", "add_case", "view_task", "add_task", "change_task", "view_affectedcustomer",
                   "add_affectedcustomer", "view_timelineevent", "view_service", "view_organization"],
    "Incident managers": ["work_case", "read_all_cases", "manage_case", "approve_communication", "view_case", "add_case",
                          "change_case", "view_task", "add_task", "change_task", "view_affectedcustomer",
                          "add_affectedcustomer", "change_affectedcustomer", "view_timelineevent", "view_deadline",
                          "change_deadline", "view_deadlinedelay", "view_postincidentreview", "view_service",
                          "view_organization"],
    "Communications": ["read_all_cases", "approve_communication", "view_case", "view_affectedcustomer",
                       "view_timelineevent", "view_postincidentreview", "view_organization"],
}


def create_teams(apps, schema_editor):
    # Model permissions are normally created after all migrations; make sure they exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in TEAMS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(Permission.objects.filter(content_type__app_label="cases", codename__in=codenames))


def remove_teams(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=TEAMS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_teams, remove_teams)]
