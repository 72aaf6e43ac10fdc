"""Listeners on Django's and django-axes' authentication signals: the security audit log.

Signals are the one hook every sign-in path shares (the login page, Django admin's login,
``Client.force_login`` in tests), so the audit rows and session bookkeeping live here.
"""

import time

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from cases.views.middleware import MFA_REQUIRED_KEY
from cases.models import SecurityEvent, User
from cases.services import mfa, security_log, sessions


@receiver(user_logged_in, dispatch_uid="irt-security-login")
def on_login(sender, request, user, **kwargs):
    security_log.record_event(SecurityEvent.Kind.LOGIN, request=request, user=user)
    if request is None or not hasattr(request, "session"):
        return
    request.session[sessions.LAST_SEEN_KEY] = int(time.time())
    required = mfa.requires_mfa(user)
    request.session[MFA_REQUIRED_KEY] = required
    if not required:
        # Fully signed in: earlier failures of this username no longer count toward a lockout.
        # With a second factor this happens only after it passes (cases.views.account).
        sessions.reset_failures(username=user.get_username(), request=request)


@receiver(user_login_failed, dispatch_uid="irt-security-login-failed")
def on_login_failed(sender, credentials, request=None, **kwargs):
    username = str((credentials or {}).get("username") or "")[:150]
    kind = SecurityEvent.Kind.MFA_FAILED if (credentials or {}).get("second_factor") else SecurityEvent.Kind.LOGIN_FAILED
    security_log.record_event(
        kind, request=request, user=User.objects.filter(username=username).first() if username else None,
        username=username,
    )


@receiver(user_locked_out, dispatch_uid="irt-security-locked-out")
def on_locked_out(sender, request=None, username=None, ip_address=None, **kwargs):
    username = str(username or "")[:150]
    security_log.record_event(
        SecurityEvent.Kind.LOCKED_OUT, request=request, username=username,
        user=User.objects.filter(username=username).first() if username else None,
    )


@receiver(user_logged_out, dispatch_uid="irt-security-logout")
def on_logout(sender, request, user, **kwargs):
    if user is None or not getattr(user, "pk", None):
        return
    # Signing out ends every session of the user, not only this browser's.
    sessions.end_all_sessions(user)
    security_log.record_event(SecurityEvent.Kind.LOGOUT, request=request, user=user)
