"""Signing in and out: ending sessions, forgetting failures, and password reset.

The idle timeout and the second-factor gate run on every request (``cases.views.middleware``) and
keep their session bookkeeping under the keys defined here.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.forms import PasswordResetForm
from django.db import transaction
from django.db.models import F

from cases.models import SecurityEvent, User
from cases.services import queue, security_log

# Session keys.
LAST_SEEN_KEY = "irt.last_seen"
SEND_PASSWORD_RESET = "cases.send_password_reset"


def lockout_username(request, credentials=None) -> str | None:
    """Return the username django-axes counts failures for, cut to the length a username can have.

    Django's AuthenticationForm passes any length on to ``authenticate``; axes would store it in a
    255-character column, which PostgreSQL refuses (a 500 found by tests/test_fuzz_forms.py).
    """
    source = credentials if credentials else getattr(request, "POST", {})
    username = source.get("username") if source else None
    return None if username is None else str(username)[:150]


def end_all_sessions(user) -> None:
    """End every session of the user on every node: the session hash of each one stops matching."""
    User.objects.filter(pk=user.pk).update(session_generation=F("session_generation") + 1)
    user.refresh_from_db(fields=["session_generation"])


def end_other_sessions(user, *, request=None) -> None:
    """End every session of the user except the one of ``request`` (which gets a new key)."""
    end_all_sessions(user)
    if request is not None and hasattr(request, "session"):
        update_session_auth_hash(request, user)


def end_sessions_if_deactivated(*, user, was_active: bool, request=None, actor=None) -> bool:
    """End every session of an account that was just deactivated, and record it; return whether it was."""
    if not was_active or user.is_active:
        return False
    end_all_sessions(user)
    security_log.record_event(SecurityEvent.Kind.DEACTIVATED, request=request, user=user, actor=actor)
    return True


def reset_failures(*, username: str, request=None) -> None:
    """Forget the failed attempts of a username once its owner has fully signed in.

    With a request, only the failures from its address go: the lock is per username and address,
    and the owner signing in here says nothing about guesses made from elsewhere.
    """
    address = security_log.client_ip(request) if request is not None else None
    AxesProxyHandler.reset_attempts(username=username, ip_address=address)


# -- password reset ----------------------------------------------------------------------------


@transaction.atomic
def request_password_reset(*, email: str, request=None) -> None:
    """Record a reset request and queue the email; the worker looks the address up.

    The request does the same work whatever the address (no user lookup, no mail), so neither the
    answer nor its timing says whether an account has it.
    """
    security_log.record_event(SecurityEvent.Kind.PASSWORD_RESET_REQUESTED, request=request, username=email[:150])
    transaction.on_commit(lambda: queue.enqueue(SEND_PASSWORD_RESET, email))


def send_password_reset(*, email: str) -> int:
    """Email a reset link (built on ``IRT_SITE_URL``) to each active account with ``email``; return how many."""
    form = PasswordResetForm({"email": email})
    if not form.is_valid():
        return 0
    users = list(form.get_users(form.cleaned_data["email"]))
    if not users:
        return 0
    site = urlsplit(settings.IRT_SITE_URL)
    form.save(
        domain_override=site.netloc, use_https=site.scheme == "https",
        email_template_name="registration/password_reset_email.txt",
        subject_template_name="registration/password_reset_subject.txt",
        extra_email_context={"site_url": settings.IRT_SITE_URL},
    )
    return len(users)
