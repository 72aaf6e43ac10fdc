"""``Authorization: Bearer <token>``: the only way into the API (no session, so no CSRF to forge)."""

from rest_framework import authentication, exceptions

from cases.services import api_tokens


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        keyword, _, raw = header.partition(" ")
        if keyword.lower() != self.keyword.lower() or not raw.strip():
            raise exceptions.AuthenticationFailed("Send the token as 'Authorization: Bearer <token>'.")
        token = api_tokens.authenticate(raw.strip(), request=request._request)
        if token is None:
            raise exceptions.AuthenticationFailed("The token is unknown, expired or revoked.")
        return token.user, token

    def authenticate_header(self, request):
        # Makes DRF answer 401 (not 403) with WWW-Authenticate when no or a bad token was sent.
        return f'{self.keyword} realm="api"'
