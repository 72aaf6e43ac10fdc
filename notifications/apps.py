from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from cases.models import hooks
        from notifications import receivers, tasks  # noqa: F401 - connects the signal receivers, registers the tasks
        from notifications.guards import delivered_to_organization, unnotified_customer_blockers
        from notifications.management.demo import seed_subscriptions
        from notifications.selectors import case_delivery_receipts, dashboard_dead_deliveries

        hooks.register_close_blockers(unnotified_customer_blockers)
        hooks.register_exposure_provider(delivered_to_organization)
        hooks.register_delivery_receipt_provider(case_delivery_receipts)
        hooks.register_dead_delivery_provider(dashboard_dead_deliveries)
        hooks.register_demo_seeder(seed_subscriptions)
