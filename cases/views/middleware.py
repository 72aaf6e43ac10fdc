"""Account-security gates that run on every request: the signed-in user, the second factor, the idle timeout."""

import functools
import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import LazyObject, SimpleLazyObject, empty
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.middleware import OTPMiddleware

from cases.access.backends import reading_session
from cases.models import SecurityEvent
from cases.services import mfa, security_log, sessions
from irt.middleware import is_public_view

# Views an authenticated user may open before passing the second factor.
OPEN_BEFORE_SECOND_FACTOR = {
    "login",
    "logout",
    "healthz",
    "account:mfa-verify",
    "account:mfa-setup",
    "account:mfa-qr",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
}
OPEN_NAMESPACES = ("lessons",)
MFA_REQUIRED_KEY = "irt.mfa_required"
# Writing the session on every request would cost a query each time; a minute's precision is enough.
LAST_SEEN_PRECISION_SECONDS = 60


def _signed_in_user(request):
    """Django's ``auth.get_user``, told which session it reads, so the user read with that session serves (once).

    What ``get_user`` made of a session read the process keeps (``cases.access.sessions.memo``) is
    kept with that read: a repeated request takes its own copy of it instead of asking again.
    """
    if not hasattr(request, "_cached_user"):
        session = request.session
        kept = getattr(session, "kept_signed_in_user", None)
        user = kept() if kept is not None else None
        if user is None:
            token = reading_session.set(session)
            try:
                user = auth.get_user(request)
            finally:
                reading_session.reset(token)
            if kept is not None:
                session.keep_signed_in_user(user)
        request._cached_user = user
    return request._cached_user


class SignedInUserMiddleware(AuthenticationMiddleware):
    """Django's authentication middleware, taking the user the session's read brought (``cases.access.sessions``).

    Everything else is Django's: the backend in the session, the session's hash of the password, an
    inactive or deleted user answered as anonymous.
    """

    def process_request(self, request):
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: _signed_in_user(request))


class SecondFactorMiddleware(OTPMiddleware):
    """django-otp's middleware, checking the session's device against the devices read with the user.

    ``PermissionBackend.get_user`` reads the user's confirmed devices in the same query as the user
    (``confirmed_second_factors``), so the check django-otp makes (the device exists, is the user's,
    is confirmed) needs no query of its own; the device itself is loaded only if something uses it.
    A user loaded another way (another backend) is checked by django-otp as before.
    """

    def _verify_user_sync(self, request, user):
        confirmed = getattr(user, "confirmed_second_factors", None)
        if confirmed is None:
            return super()._verify_user_sync(request, user)
        self._init_user_fields(user)
        persistent_id = request.session.get(DEVICE_ID_SESSION_KEY)
        if persistent_id and self._normalize_persistent_id(persistent_id) in confirmed:
            user.otp_device = SimpleLazyObject(functools.partial(self._device_from_persistent_id, persistent_id))
        elif persistent_id:
            del request.session[DEVICE_ID_SESSION_KEY]
        return user


def _unwrapped(user):
    """The user itself, out of the lazy proxies Django's and django-otp's middleware wrap it in.

    A page reads ``request.user`` a few hundred times (permissions, templates); through the two
    proxies each read cost two extra calls, about a twentieth of a kept staff page (issue 18).
    """
    while isinstance(user, LazyObject):
        if user._wrapped is empty:
            user._setup()
        user = user._wrapped
    return user


def mfa_required(request) -> bool:
    """Return whether the signed-in user must pass a second factor (staff always; customers who opted in)."""
    user = request.user
    if mfa.is_staff_account(user):
        return True
    required = request.session.get(MFA_REQUIRED_KEY)
    if required is None:
        required = request.session[MFA_REQUIRED_KEY] = mfa.has_mfa(user)
    return required


class AccountSecurityMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        # Public pages are the same for every reader: reading one neither touches the session (no
        # "Vary: Cookie", no cookie written) nor counts as activity for the idle timeout. No session
        # cookie means no signed-in user, so the session is not loaded either.
        if is_public_view(view_func) or settings.SESSION_COOKIE_NAME not in request.COOKIES:
            return None
        user = request.user
        if not user.is_authenticated:
            return None
        # Resolved by now (the session read, the second factor checked): the rest of the request reads it directly.
        request.user = user = _unwrapped(user)
        if mfa.is_staff_account(user) and self._idle_too_long(request):
            security_log.record_event(SecurityEvent.Kind.SESSION_EXPIRED, request=request, user=user)
            request.session.flush()
            messages.info(request, "You were signed out after a period of inactivity. Sign in again.")
            return redirect(f"{reverse('login')}?{urlencode({'next': request.get_full_path()})}")
        if user.is_verified() or not mfa_required(request):
            return None
        match = request.resolver_match
        if match is None or match.view_name in OPEN_BEFORE_SECOND_FACTOR or match.namespace in OPEN_NAMESPACES:
            return None
        target = "account:mfa-verify" if mfa.has_mfa(user) else "account:mfa-setup"
        return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")

    @staticmethod
    def _idle_too_long(request) -> bool:
        now = int(time.time())
        last_seen = request.session.get(sessions.LAST_SEEN_KEY)
        if last_seen is not None and now - last_seen > settings.IRT_STAFF_IDLE_MINUTES * 60:
            return True
        if last_seen is None or now - last_seen >= LAST_SEEN_PRECISION_SECONDS:
            request.session[sessions.LAST_SEEN_KEY] = now
        return False
