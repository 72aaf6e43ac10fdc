from cases.access.permissions import can_see_deliveries
from notifications import selectors


def inbox(request):
    """Offer the unread count lazily: only pages that show the navigation run the query."""
    user = getattr(request, "user", None)
    if user is None:
        return {}
    return {"inbox_unread": lambda: selectors.unread_count(user) if user.is_authenticated else 0,
            "viewer_sees_deliveries": lambda: can_see_deliveries(user)}
