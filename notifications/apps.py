from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from cases import hooks
        from notifications.guards import unnotified_customer_blockers

        hooks.register_close_blockers(unnotified_customer_blockers)
