from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = "Cases"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from cases import auth_receivers, checks  # noqa: F401 - registers receivers and system checks
        from cases.roles import ensure_teams_after_migrate

        post_migrate.connect(ensure_teams_after_migrate, sender=self, dispatch_uid="cases.ensure_teams")
