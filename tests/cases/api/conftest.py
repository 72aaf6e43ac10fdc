"""API test helpers: a token for any user, and a client that sends it."""

import pytest
from django.test import Client
from django.test.client import MULTIPART_CONTENT

from cases.models import ApiToken
from cases.services import api_tokens

ALL_SCOPES = [scope.value for scope in ApiToken.Scope]


def token_for(user, *scopes, days: int = 30, name: str = "test") -> str:
    """Return a fresh plain token of ``user`` with ``scopes`` (all scopes when none given)."""
    _, raw = api_tokens.create_token(user=user, by=user, name=name, scopes=list(scopes) or ALL_SCOPES, days=days)
    return raw


class ApiClient(Client):
    """A test client sending ``Authorization: Bearer <token>`` and JSON bodies."""

    def __init__(self, token: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.token = token

    def _auth(self, extra):
        if self.token is not None:
            extra.setdefault("HTTP_AUTHORIZATION", f"Bearer {self.token}")
        return extra

    def get(self, path, data=None, **extra):
        return super().get(path, data, **self._auth(extra))

    def post(self, path, data=None, content_type="application/json", **extra):
        """POST JSON; ``content_type=None`` sends ``data`` as multipart (file uploads)."""
        return super().post(path, data, content_type=content_type or MULTIPART_CONTENT, **self._auth(extra))

    def patch(self, path, data=None, content_type="application/json", **extra):
        return super().patch(path, data, content_type=content_type, **self._auth(extra))

    def put(self, path, data=None, content_type="application/json", **extra):
        return super().put(path, data, content_type=content_type, **self._auth(extra))

    def delete(self, path, data=None, content_type="application/json", **extra):
        return super().delete(path, data, content_type=content_type, **self._auth(extra))


@pytest.fixture
def api():
    """Return a factory: ``api(user, *scopes)`` → a client with a new token of that user."""

    def make(user=None, *scopes, token: str | None = None) -> ApiClient:
        if token is None and user is not None:
            token = token_for(user, *scopes)
        return ApiClient(token)

    return make
