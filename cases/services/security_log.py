"""The security audit log: who did what to an account, when, and from where.

Rows of ``SecurityEvent`` are written only here. Sign-ins and sign-outs reach it through
``cases.receivers.security``; Django admin's account edits through ``record_role_changes``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from cases.models import SecurityEvent


def client_ip(request) -> str | None:
    """Return the client's address: the proxy-appended X-Forwarded-For entry behind a trusted proxy."""
    if settings.SECURE_PROXY_SSL_HEADER:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        # The right-most entry is the one the trusted proxy appended; the others are client-supplied.
        last = forwarded.split(",")[-1].strip()
        if last:
            return last
    return request.META.get("REMOTE_ADDR") or None


def record_event(kind: str, *, request=None, user=None, username: str = "", actor=None, detail: str = "") -> SecurityEvent:
    """Append one row to the security audit log with who, when and where."""
    if user is not None and not getattr(user, "pk", None):
        user = None
    return SecurityEvent.objects.create(
        kind=kind,
        user=user,
        username=(username or (user.get_username() if user is not None else ""))[:150],
        actor=actor if actor is not None and getattr(actor, "pk", None) else None,
        ip_address=client_ip(request) if request is not None else None,
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:255] if request is not None else "",
        path=request.path[:255] if request is not None else "",
        detail=detail[:2000],
    )


@dataclass(frozen=True)
class Roles:
    """What an account may do: the flags, teams and direct permissions its audit row compares."""

    is_active: bool
    is_staff: bool
    is_superuser: bool
    is_customer_admin: bool
    teams: frozenset[str]
    permissions: frozenset[str]

    @classmethod
    def of(cls, user) -> Roles:
        return cls(
            is_active=user.is_active, is_staff=user.is_staff, is_superuser=user.is_superuser,
            is_customer_admin=user.is_customer_admin,
            teams=frozenset(user.groups.values_list("name", flat=True)),
            permissions=frozenset(user.user_permissions.values_list("codename", flat=True)),
        )


def record_role_changes(*, user, before: Roles | None, request=None, actor=None) -> SecurityEvent | None:
    """Record a change of the account's flags, teams or direct permissions (``before`` None: a new account).

    A new account is recorded when it starts with any role; an edit when something changed.
    """
    after = Roles.of(user)
    changes = []
    if before is not None:
        for flag in ("is_staff", "is_superuser", "is_customer_admin"):
            if getattr(before, flag) != getattr(after, flag):
                changes.append(f"{flag}: {getattr(before, flag)} → {getattr(after, flag)}")
        if after.teams != before.teams:
            changes.append(f"teams: {sorted(before.teams)} → {sorted(after.teams)}")
        if after.permissions != before.permissions:
            changes.append(f"permissions: {sorted(before.permissions)} → {sorted(after.permissions)}")
    elif after.teams or after.permissions or after.is_staff or after.is_superuser or after.is_customer_admin:
        changes.append("created with roles")
    if not changes:
        return None
    return record_event(SecurityEvent.Kind.PERMISSIONS_CHANGED, request=request, user=user, actor=actor,
                        detail="; ".join(changes))
