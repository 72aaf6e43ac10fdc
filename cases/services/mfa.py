"""The second factor: TOTP authenticators and single-use backup codes (django-otp devices).

Every staff user (responders, managers, comms, admins) must pass a second factor before any staff
page or Django admin opens; a customer user may turn it on, and then must pass it too.
"""

from __future__ import annotations

from base64 import b32decode, b32encode
from binascii import hexlify

from axes.handlers.proxy import AxesProxyHandler
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django_otp import devices_for_user, user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from cases.access.permissions import is_staff_user
from cases.services.lockout import address_ceiling_reached
from cases.models import SecurityEvent
from cases.services import security_log, sessions

BACKUP_CODE_COUNT = 10
BACKUP_DEVICE_NAME = "backup"
TOTP_DEVICE_NAME = "authenticator"


def is_staff_account(user) -> bool:
    """Return whether the account is staff (responder, manager, comms, Django admin or superuser)."""
    return bool(user.is_authenticated and (user.is_superuser or user.is_staff or is_staff_user(user)))


def requires_mfa(user) -> bool:
    """Return whether the user must pass a second factor: all staff, and customers who turned it on."""
    return is_staff_account(user) or (user.is_authenticated and has_mfa(user))


def has_mfa(user) -> bool:
    return user_has_device(user, confirmed=True)


def totp_device(user, *, confirmed: bool = True):
    return TOTPDevice.objects.filter(user=user, confirmed=confirmed).order_by("pk").first()


def secret_base32(device) -> str:
    """Return the device's secret as authenticator apps show it (base32, no padding)."""
    return b32encode(device.bin_key).decode().rstrip("=")


def start_totp_enrolment(*, user):
    """Return the user's pending (unconfirmed) TOTP device, creating one with a fresh secret."""
    device = totp_device(user, confirmed=False)
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


@transaction.atomic
def confirm_totp_enrolment(*, user, token: str, request=None) -> tuple[object, list[str]] | None:
    """Confirm the pending device with a code from the app; return (device, backup codes) or None."""
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("pk").first()
    if device is None or not device.verify_token(normalize_token(token)):
        return None
    # One authenticator per user: a confirmed new one replaces any older one.
    TOTPDevice.objects.filter(user=user, confirmed=True).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = create_backup_codes(user=user, request=request, record=False)
    # Sessions opened with the password alone (perhaps by whoever else knows it) end here.
    sessions.end_other_sessions(user, request=request)
    security_log.record_event(SecurityEvent.Kind.MFA_ENROLLED, request=request, user=user)
    return device, codes


def enrol_totp_with_secret(*, user, secret_b32: str):
    """Give the user a confirmed TOTP device with a known base32 secret (demo data, scripted checks)."""
    key = hexlify(b32decode(secret_b32.upper() + "=" * (-len(secret_b32) % 8))).decode()
    TOTPDevice.objects.filter(user=user).delete()
    return TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, key=key, confirmed=True)


@transaction.atomic
def create_backup_codes(*, user, request=None, record: bool = True) -> list[str]:
    """Replace the user's backup codes with new single-use ones and return them (shown once)."""
    device, _ = StaticDevice.objects.get_or_create(user=user, name=BACKUP_DEVICE_NAME, defaults={"confirmed": True})
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    if record:
        security_log.record_event(SecurityEvent.Kind.BACKUP_CODES_CREATED, request=request, user=user)
    return codes


def remaining_backup_codes(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def normalize_token(token: str) -> str:
    return "".join(str(token or "").split())[:64]


def verify_second_factor(*, user, token: str):
    """Return the device that accepts the code (an authenticator code or a backup code), or None.

    Each device's own throttling applies as well; a backup code is deleted when it is used.
    """
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
    for device in list(devices_for_user(user, confirmed=None)):
        device.delete()
    security_log.record_event(SecurityEvent.Kind.MFA_DISABLED, request=request, user=user, actor=by)


def sign_in_past_lock(*, request, username: str, password: str, token: str):
    """Return ``(user, device)`` when the password and a second factor both match, else None.

    This is the way through a username lock for its owner: the lock stops passwords alone, not
    someone who also holds the second factor. Both are checked together, so a locked-out attacker
    cannot learn whether a password was right. A failure counts like a wrong password; an address
    over its ceiling (``IRT_LOCKOUT_ADDRESS_FAILURES``) is refused without checking anything.
    """
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
