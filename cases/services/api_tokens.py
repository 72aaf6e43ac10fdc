"""API tokens: create (the plain token is returned once), revoke, and authenticate a request.

Creation and revocation go to the security log. ``authenticate`` is the one place a raw token is
turned into a user; the API's authentication class calls it.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models.base import ModelState
from django.utils import timezone

from cases.access.permissions import can_send_alerts, is_customer, is_staff_user
from cases.models.exceptions import ActionRefused, NotAllowed
from cases.models import ApiToken, SecurityEvent, User
from cases.services.security_log import client_ip, record_event

TOKEN_PREFIX = "irt_"
MAX_DAYS = 366
DEFAULT_DAYS = 90
# Writing last use on every request would cost a write per call; a minute's precision is enough.
LAST_USED_PRECISION = timedelta(minutes=1)
SCOPES = [scope.value for scope in ApiToken.Scope]


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


# Scopes a connector's account (one that may only send alerts) may hold: it sends, nothing else.
CONNECTOR_SCOPES = frozenset({ApiToken.Scope.ALERTS_WRITE})


def may_hold_token(user, scopes=None) -> bool:
    """Return whether the user may use the API with these scopes: active staff, never customers.

    A connector's service account with only the ``add_alert`` permission may hold a token whose
    scopes are ``alerts:write`` alone. ``scopes=None`` asks about staff tokens (any scope).
    """
    if not user.is_active or is_customer(user):
        return False
    if is_staff_user(user):
        return True
    return bool(scopes) and set(scopes) <= CONNECTOR_SCOPES and can_send_alerts(user)


@transaction.atomic
def create_token(
    *, user, by, name: str, scopes: list[str], days: int = DEFAULT_DAYS, request=None
) -> tuple[ApiToken, str]:
    """Create a token for ``user`` and return it with its plain value, which is never stored."""
    if by.pk != user.pk and not by.is_superuser:
        raise NotAllowed("Only an admin creates tokens for another account.")
    if not may_hold_token(user, scopes):
        raise ActionRefused(f"{user.get_username()} cannot hold a token with these scopes: only response staff use the API, "
                            f"and an account that only sends alerts holds {', '.join(sorted(CONNECTOR_SCOPES))} alone.")
    name = (name or "").strip()
    if not name:
        raise ActionRefused("Give the token a name that says where it is used.")
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise ActionRefused(f"Choose scopes from: {', '.join(SCOPES)}." + (f" Unknown: {', '.join(unknown)}." if unknown else ""))
    if not 1 <= days <= MAX_DAYS:
        raise ActionRefused(f"A token lasts between 1 and {MAX_DAYS} days.")
    prefix = secrets.token_hex(4)
    raw = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        user=user,
        name=name[:100],
        scopes=sorted(set(scopes)),
        prefix=prefix,
        token_hash=hash_token(raw),
        created_by=by,
        expires_at=timezone.now() + timedelta(days=days),
    )
    record_event(
        SecurityEvent.Kind.API_TOKEN_CREATED, request=request, user=user, actor=by,
        detail=f"{token.name} ({prefix}…), scopes {', '.join(token.scopes)}, expires {token.expires_at:%Y-%m-%d}",
    )
    return token, raw


@transaction.atomic
def revoke_token(*, token: ApiToken, by, request=None) -> ApiToken:
    if by.pk != token.user_id and not by.is_superuser:
        raise NotAllowed("Only the token's owner or an admin revokes it.")
    locked = ApiToken.objects.select_for_update().get(pk=token.pk)
    if locked.revoked_at is not None:
        return locked
    locked.revoked_at = timezone.now()
    locked.save(update_fields=["revoked_at"])
    _verified.pop(locked.token_hash, None)
    record_event(
        SecurityEvent.Kind.API_TOKEN_REVOKED, request=request, user=locked.user, actor=by,
        detail=f"{locked.name} ({locked.prefix}…)",
    )
    return locked


# Tokens this process verified a moment ago: token hash -> (monotonic time the trust ends, token).
# A connector posts many alerts a second; checking its token, user and permissions each time cost
# more than storing the alert. The price: another process learns of a revocation, a deactivated
# user or a withdrawn permission only when its entry ends (IRT_API_TOKEN_CACHE_SECONDS, README).
_verified: dict[str, tuple[float, ApiToken]] = {}
_VERIFIED_MAX = 10_000


def authenticate(raw: str, *, request=None) -> ApiToken | None:
    """Return the active token for ``raw`` (its user still allowed the API), or None."""
    if not raw or not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    digest = hash_token(raw)
    now = timezone.now()
    token = _recently_verified(digest, now)
    if token is None:
        token = ApiToken.objects.select_related("user").filter(token_hash=digest).first()
        if token is None or not token.is_active or not may_hold_token(token.user, token.scopes):
            _verified.pop(digest, None)
            return None
        _remember(digest, token)
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        token.last_used_at = now
        token.last_used_from = client_ip(request) if request is not None else None
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now, last_used_from=token.last_used_from)
    return token


def _recently_verified(digest: str, now) -> ApiToken | None:
    """Return a copy of the token verified within the trust period (each request gets its own objects)."""
    entry = _verified.get(digest)
    if entry is None or entry[0] <= time.monotonic() or entry[1].expires_at <= now:
        return None
    token = _clone(entry[1])
    # The user's permission cache (filled while verifying) travels with the copy; nothing else does.
    token.user = _clone(entry[1].user)
    return token


def _clone(instance):
    """A shallow copy of a model instance, as ``copy.copy`` makes it but without its pickling round trip.

    ``copy.copy`` goes through ``__reduce_ex__``, the app registry and ``__setstate__``: a tenth
    of the CPU of an alert post on the intake path. Attributes and the related-object cache are
    copied, so a change to the copy never reaches the kept original.
    """
    clone = instance.__class__.__new__(instance.__class__)
    clone.__dict__ = instance.__dict__.copy()
    state = clone._state = ModelState()
    state.db, state.adding, state.fields_cache = instance._state.db, instance._state.adding, dict(instance._state.fields_cache)
    return clone


def _remember(digest: str, token: ApiToken) -> None:
    seconds = settings.IRT_API_TOKEN_CACHE_SECONDS
    if not seconds:
        return
    if len(_verified) >= _VERIFIED_MAX:
        _verified.clear()
    _verified[digest] = (time.monotonic() + seconds, token)


def forget_verified_tokens() -> None:
    """Drop every token this process trusts, so the next request of each is checked again."""
    _verified.clear()


def tokens_of(user):
    return ApiToken.objects.filter(user=user)


@transaction.atomic
def create_service_account(*, by, username: str, teams: list[str]) -> User:
    """Create a service account (no password: it can only act through tokens) in the given teams."""
    from django.contrib.auth.models import Group

    if not by.is_superuser:
        raise NotAllowed("Only an admin creates service accounts.")
    user = User(username=username, is_service_account=True)
    user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    user.groups.set(Group.objects.filter(name__in=teams))
    return user
