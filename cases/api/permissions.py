"""Scope checks. The token narrows what its user may do; the services still check the user's rights.

A view declares ``required_scopes = {"read": <scope>, "write": <scope>}``: ``read`` for GET/HEAD/
OPTIONS, ``write`` for the others. A view without ``required_scopes`` is refused, so a new endpoint
cannot be open by mistake.
"""

from rest_framework import permissions

from cases.services import api_tokens


class TokenScopes(permissions.BasePermission):
    """Require a Bearer token of an API-capable user, carrying the scope the view asks for."""

    message = "The token lacks the scope this operation needs."

    def has_permission(self, request, view):
        token = request.auth
        if token is None or not request.user.is_authenticated:
            # DRF turns this into a 401 with WWW-Authenticate, because no token was sent.
            return False
        if not api_tokens.may_hold_token(request.user, token.scopes):
            self.message = "This account cannot use the API."
            return False
        scope = required_scope(view, request.method)
        if scope is None:
            self.message = "This operation is not available through the API."
            return False
        if not token.has_scope(scope):
            self.message = f"The token lacks the scope {scope!r} this operation needs."
            return False
        return True


def required_scope(view, method: str) -> str | None:
    scopes = getattr(view, "required_scopes", None) or {}
    scope = scopes.get("read" if method in permissions.SAFE_METHODS else "write")
    return None if scope is None else str(scope)
