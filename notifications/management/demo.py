"""Demo subscriptions for ``seed_demo`` (through ``cases.models.hooks.register_demo_seeder``).

One example on the preferences page: Contoso's customer user asks to be emailed the follow-ups of
every incident affecting Object Storage, whether or not it touched Contoso's data. Idempotent:
the service records a choice in place.
"""

from cases.models import Service
from notifications.services.subscriptions import set_subscriptions

USER, SERVICE = "customer-contoso", "Object Storage"


def seed_subscriptions(users: dict) -> list[str]:
    """Record the demo customer's choice for the demo service; return what it made."""
    set_subscriptions(by=users[USER], target=Service.objects.get(name=SERVICE), mine=True)
    return [f"{USER} receives the follow-ups of incidents affecting {SERVICE}."]
