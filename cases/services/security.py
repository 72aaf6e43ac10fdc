"""Account security: the audit log, ending sessions, and the second factor (TOTP + backup codes).

Every staff user (responders, managers, comms, admins) must pass a second factor before any staff
page or Django admin opens; a customer user may turn it on, and then must pass it too.
"""

from __future__ import annotations

from base64 import b32decode, b32encode
from binascii import hexlify

from django.conf import settings
from django.db import transaction
from django.db.models import F

from cases import access
from cases.models import SecurityEvent, User

BACKUP_CODE_COUNT = 10
BACKUP_DEVICE_NAME = "backup"
TOTP_DEVICE_NAME = "authenticator"
# Session keys.
LAST_SEEN_KEY = "irt.last_seen"


def client_ip(request) -> str | None:
    """Return the client's address: the proxy-appended X-Forwarded-For entry behind a trusted proxy."""
    if settings.SECURE_PROXY_SSL_HEADER:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        # The right-most entry is the one the trusted proxy appended; the others are client-supplied.
        last = forwarded.split(",")[-1].strip()
        if last:
            return last
    return request.META.get("REMOTE_ADDR") or None


def lockout_username(request, credentials=None) -> str | None:
    """Return the username django-axes counts failures for, cut to the length a username can have.

    Django's AuthenticationForm passes any length on to ``authenticate``; axes would store it in a
    255-character column, which PostgreSQL refuses (a 500 found by tests/test_fuzz_forms.py).
    """
    source = credentials if credentials else getattr(request, "POST", {})
    username = source.get("username") if source else None
    return None if username is None else str(username)[:150]


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


def end_all_sessions(user) -> None:
    """End every session of the user on every node: the session hash of each one stops matching."""
    User.objects.filter(pk=user.pk).update(session_generation=F("session_generation") + 1)
    user.refresh_from_db(fields=["session_generation"])


def end_other_sessions(user, *, request=None) -> None:
    """End every session of the user except the one of ``request`` (which gets a new key)."""
    from django.contrib.auth import update_session_auth_hash

    end_all_sessions(user)
    if request is not None and hasattr(request, "session"):
        update_session_auth_hash(request, user)


def reset_failures(*, username: str, request=None) -> None:
    """Forget the failed attempts of a username once its owner has fully signed in.

    With a request, only the failures from its address go: the lock is per username and address,
    and the owner signing in here says nothing about guesses made from elsewhere.
    """
    from axes.handlers.proxy import AxesProxyHandler

    address = client_ip(request) if request is not None else None
    AxesProxyHandler.reset_attempts(username=username, ip_address=address)


def sign_in_past_lock(*, request, username: str, password: str, token: str):
    """Return ``(user, device)`` when the password and a second factor both match, else None.

    This is the way through a username lock for its owner: the lock stops passwords alone, not
    someone who also holds the second factor. Both are checked together, so a locked-out attacker
    cannot learn whether a password was right. A failure counts like a wrong password; an address
    over its ceiling (``IRT_LOCKOUT_ADDRESS_FAILURES``) is refused without checking anything.
    """
    from axes.handlers.proxy import AxesProxyHandler
    from django.contrib.auth.backends import ModelBackend
    from django.contrib.auth.signals import user_login_failed

    from cases.lockout import address_ceiling_reached

    username = str(username or "")[:150]
    AxesProxyHandler.update_request(request)
    found = None
    if address_ceiling_reached(request):
        request.axes_locked_out = True
    else:
        # ModelBackend directly: the axes backend would refuse the locked username before this.
        user = ModelBackend().authenticate(request, username=username, password=password)
        if user is not None and has_mfa(user):
            device = verify_second_factor(user=user, token=token)
            if device is not None:
                found = (user, device)
    if found is None:
        user_login_failed.send(sender=__name__, credentials={"username": username}, request=request)
    return found


# -- password reset ----------------------------------------------------------------------------


@transaction.atomic
def request_password_reset(*, email: str, request=None) -> None:
    """Record a reset request and queue the email; the worker looks the address up.

    The request does the same work whatever the address (no user lookup, no mail), so neither the
    answer nor its timing says whether an account has it.
    """
    from cases import tasks

    record_event(SecurityEvent.Kind.PASSWORD_RESET_REQUESTED, request=request, username=email[:150])
    transaction.on_commit(lambda: tasks.enqueue_password_reset(email))


def send_password_reset(*, email: str) -> int:
    """Email a reset link (built on ``IRT_SITE_URL``) to each active account with ``email``; return how many."""
    from urllib.parse import urlsplit

    from django.contrib.auth.forms import PasswordResetForm

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


# -- the second factor -------------------------------------------------------------------------


def is_staff_account(user) -> bool:
    """Return whether the account is staff (responder, manager, comms, Django admin or superuser)."""
    return bool(user.is_authenticated and (user.is_superuser or user.is_staff or access.is_staff_user(user)))


def requires_mfa(user) -> bool:
    """Return whether the user must pass a second factor: all staff, and customers who turned it on."""
    return is_staff_account(user) or (user.is_authenticated and has_mfa(user))


def has_mfa(user) -> bool:
    from django_otp import user_has_device

    return user_has_device(user, confirmed=True)


def totp_device(user, *, confirmed: bool = True):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.filter(user=user, confirmed=confirmed).order_by("pk").first()


def secret_base32(device) -> str:
    """Return the device's secret as authenticator apps show it (base32, no padding)."""
    return b32encode(device.bin_key).decode().rstrip("=")


def start_totp_enrolment(*, user):
    """Return the user's pending (unconfirmed) TOTP device, creating one with a fresh secret."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = totp_device(user, confirmed=False)
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


@transaction.atomic
def confirm_totp_enrolment(*, user, token: str, request=None) -> tuple[object, list[str]] | None:
    """Confirm the pending device with a code from the app; return (device, backup codes) or None."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("pk").first()
    if device is None or not device.verify_token(normalize_token(token)):
        return None
    # One authenticator per user: a confirmed new one replaces any older one.
    TOTPDevice.objects.filter(user=user, confirmed=True).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = create_backup_codes(user=user, request=request, record=False)
    # Sessions opened with the password alone (perhaps by whoever else knows it) end here.
    end_other_sessions(user, request=request)
    record_event(SecurityEvent.Kind.MFA_ENROLLED, request=request, user=user)
    return device, codes


def enrol_totp_with_secret(*, user, secret_b32: str):
    """Give the user a confirmed TOTP device with a known base32 secret (demo data, scripted checks)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    key = hexlify(b32decode(secret_b32.upper() + "=" * (-len(secret_b32) % 8))).decode()
    TOTPDevice.objects.filter(user=user).delete()
    return TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, key=key, confirmed=True)


@transaction.atomic
def create_backup_codes(*, user, request=None, record: bool = True) -> list[str]:
    """Replace the user's backup codes with new single-use ones and return them (shown once)."""
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

    device, _ = StaticDevice.objects.get_or_create(user=user, name=BACKUP_DEVICE_NAME, defaults={"confirmed": True})
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    if record:
        record_event(SecurityEvent.Kind.BACKUP_CODES_CREATED, request=request, user=user)
    return codes


def remaining_backup_codes(user) -> int:
    from django_otp.plugins.otp_static.models import StaticToken

    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def normalize_token(token: str) -> str:
    return "".join(str(token or "").split())[:64]


def verify_second_factor(*, user, token: str):
    """Return the device that accepts the code (an authenticator code or a backup code), or None.

    Each device's own throttling applies as well; a backup code is deleted when it is used.
    """
    from django_otp import devices_for_user

    token = normalize_token(token)
    if not token:
        return None
    with transaction.atomic():
        for device in devices_for_user(user, confirmed=True, for_verify=True):
            allowed, _ = device.verify_is_allowed()
            if allowed and device.verify_token(token):
                return device
    return None


@transaction.atomic
def disable_mfa(*, user, request=None, by=None) -> None:
    """Remove every second-factor device of the user (a customer turning it off, or an admin reset)."""
    from django_otp import devices_for_user

    for device in list(devices_for_user(user, confirmed=None)):
        device.delete()
    record_event(SecurityEvent.Kind.MFA_DISABLED, request=request, user=user, actor=by)
