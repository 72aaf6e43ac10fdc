from django.conf import settings

from cases import access


def roles(request):
    """Expose the viewer's role so the base template picks the staff or customer navigation."""
    user = getattr(request, "user", None)
    if user is None:
        return {}
    return {
        "viewer_role": access.role_label(user),
        "viewer_is_staff": access.is_staff_user(user),
        "viewer_is_customer": access.is_customer(user),
        "notify_hours": settings.IRT_NOTIFY_WITHIN_HOURS,
    }
