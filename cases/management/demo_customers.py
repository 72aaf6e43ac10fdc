"""Demo customer administrators for ``seed_demo``: ``contoso-admin`` and ``fabrikam-admin`` (issue 16).

Each manages their own organisation's users, security contacts, webhooks and feeds at
``/portal/organisation/``. Idempotent: a second run resets their password and flags only.
"""

from cases.models import Organization, User

ADMINS = [("contoso-admin", "Carla", "Contoso", "contoso"), ("fabrikam-admin", "Frank", "Fabrikam", "fabrikam")]


def seed_customer_admins(*, password: str) -> list[User]:
    """Create or reset the demo customer administrators; return them."""
    admins = []
    for username, first, last, slug in ADMINS:
        user, _ = User.objects.get_or_create(username=username)
        user.first_name, user.last_name, user.email = first, last, f"{username}@{slug}.example"
        user.organization = Organization.objects.get(slug=slug)
        user.is_customer_admin, user.is_active = True, True
        user.set_password(password)
        user.save()
        admins.append(user)
    return admins
