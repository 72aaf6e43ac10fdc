from cases.access.permissions import can_see_deliveries
from notifications import selectors
from notifications.services.inbox import unread_counts


def inbox(request):
    """Offer the unread count lazily (only pages that show the navigation ask), from the cache (``services.inbox``)."""
    user = getattr(request, "user", None)
    if user is None:
        return {}
    return {"inbox_unread": lambda: unread_counts.get(user.pk, lambda: selectors.unread_count(user)) if user.is_authenticated else 0,
            "viewer_sees_deliveries": lambda: can_see_deliveries(user)}
