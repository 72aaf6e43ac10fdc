"""Second-factor helpers for tests.

``Client.force_login`` is wrapped (tests/conftest.py) so a forced login also passes the second
factor, as every signed-in staff member has; production code has no such shortcut.
``login_without_second_factor`` keeps the original behaviour for the tests of the MFA flow.
"""

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp

TEST_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

_original_force_login = Client.force_login


def login_without_second_factor(client, user, backend=None):
    _original_force_login(client, user, backend)


def pass_second_factor(client, user):
    """Mark the client's session as verified with the user's authenticator (enrolling one if needed)."""
    from cases.services import mfa

    device = mfa.totp_device(user) or mfa.enrol_totp_with_secret(user=user, secret_b32=TEST_TOTP_SECRET)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def force_login_with_second_factor(self, user, backend=None):
    from cases.services import mfa

    _original_force_login(self, user, backend)
    if mfa.requires_mfa(user):
        pass_second_factor(self, user)


def totp_now(secret_b32: str = TEST_TOTP_SECRET, *, offset_steps: int = 0) -> str:
    """Return the current code an authenticator app with this secret shows."""
    from base64 import b32decode

    key = b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    return f"{totp(key, drift=offset_steps):06d}"
