from django.conf import settings

from cases.access.permissions import is_customer, is_staff_user, role_label
def roles(request):
    """Expose the viewer's role lazily, so pages that never ask do not touch the session."""
    user = getattr(request, "user", None)
    if user is None:
        return {}
    return {
        # Templates call these only when they use them (public pages do not, and stay cacheable).
        "viewer_role": lambda: role_label(user),
        "viewer_is_staff": lambda: is_staff_user(user),
        "viewer_is_customer": lambda: is_customer(user),
        "notify_hours": settings.IRT_NOTIFY_WITHIN_HOURS,
    }
