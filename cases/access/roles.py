"""The staff teams and the permissions that make each role.

Permissions decide roles everywhere (``cases.access``), so a renamed group keeps working and an
admin can build a new team from the same permissions. ``ensure_teams`` runs after every
``migrate`` (and after a test-database flush), so the teams always match this table.
"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.contrib.contenttypes.management import create_contenttypes

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


def ensure_teams(apps=global_apps, using: str = "default") -> None:
    """Create the content types, permissions and teams if missing, and set each team's permissions."""
    for app_config in apps.get_app_configs():
        # Historical app registries (inside migrations) mark model modules this way.
        had_models = getattr(app_config, "models_module", None)
        app_config.models_module = had_models or True
        create_contenttypes(app_config, verbosity=0, using=using, apps=apps)
        create_permissions(app_config, verbosity=0, using=using, apps=apps)
        app_config.models_module = had_models
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in TEAMS.items():
        group, _ = Group.objects.using(using).get_or_create(name=name)
        group.permissions.set(
            Permission.objects.using(using).filter(content_type__app_label="cases", codename__in=codenames)
        )


def ensure_teams_after_migrate(sender, using="default", apps=global_apps, **kwargs) -> None:
    ensure_teams(apps=apps, using=using)
