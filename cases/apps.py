from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = "Cases"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        # Imported for their side effects: signal receivers, the system checks, the task registry.
        from cases.access.roles import ensure_teams_after_migrate
        from cases.receivers import case_page as case_page_receivers  # noqa: F401
        from cases.receivers import dashboard as dashboard_receivers  # noqa: F401
        from cases.receivers import lessons as lesson_receivers  # noqa: F401
        from cases.receivers import portal as portal_receivers  # noqa: F401
        from cases.receivers import security as auth_receivers  # noqa: F401
        from cases.tasks import security as tasks  # noqa: F401
        from irt import checks  # noqa: F401

        post_migrate.connect(ensure_teams_after_migrate, sender=self, dispatch_uid="cases.ensure_teams")
