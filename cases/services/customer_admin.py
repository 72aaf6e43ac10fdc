"""What a customer administrator changes about their own organisation, each change in the security log.

Users (invite by email, remove), security contacts (the addresses breach notices go to) and the
read token of the organisation's private feeds. Webhook endpoints are changed through
``notifications.services.webhooks``, which records them with ``record_change`` here. Every
function takes the acting administrator and refuses (``PermissionDenied``) anyone who is not
one, so a crafted call cannot change another organisation; a change that cannot be made raises
``ActionRefused`` with the reason.
"""

import secrets

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from cases.access.permissions import is_customer_admin
from cases.models import Organization, SecurityEvent
from cases.models.exceptions import ActionRefused
from cases.models.accounts import feed_token_digest
from cases.services import queue, security_log
from cases.services.sessions import SEND_PASSWORD_RESET, end_sessions_if_deactivated

FEED_TOKEN_PREFIX = "irtfeed_"


def administered_organization(by) -> Organization:
    """Return the organisation ``by`` administers; refuse anyone who is not a customer administrator."""
    if not is_customer_admin(by):
        raise PermissionDenied("Only your organisation's administrators change its settings.")
    return by.organization


def record_change(*, by, what: str, request=None, user=None) -> SecurityEvent:
    """Write one customer-administrator change to the security log, naming the organisation."""
    return security_log.record_event(
        SecurityEvent.Kind.CUSTOMER_SETTINGS_CHANGED, request=request, user=user or by, actor=by,
        detail=f"{by.organization.name} ({by.organization.slug}): {what}",
    )


def _clean_email(email: str) -> str:
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ActionRefused(f"{email!r} is not an email address.") from None
    return email


def _lock(organization: Organization) -> Organization:
    return Organization.objects.select_for_update().get(pk=organization.pk)


# -- users -------------------------------------------------------------------------------------


@transaction.atomic
def invite_user(*, by, email: str, first_name: str = "", last_name: str = "", make_admin: bool = False, request=None):
    """Create a user of the administrator's organisation and email them a link to choose a password.

    The link is the password-reset link (one use, one hour), sent by the worker like any reset.
    """
    organization = administered_organization(by)
    email = _clean_email(email)
    User = get_user_model()
    if User.objects.filter(username__iexact=email).exists() or User.objects.filter(email__iexact=email).exists():
        raise ActionRefused("Someone already has an account with that address.")
    user = User(username=email, email=email, first_name=first_name, last_name=last_name, organization=organization,
                is_customer_admin=make_admin)
    # A usable password nobody knows: Django's reset form sends links only to accounts with one.
    user.set_password(secrets.token_urlsafe(32))
    user.save()
    record_change(by=by, request=request, user=user,
                  what=f"invited {email}{' as an administrator' if make_admin else ''}")
    transaction.on_commit(lambda: queue.enqueue(SEND_PASSWORD_RESET, email))
    return user


@transaction.atomic
def remove_user(*, by, member, request=None) -> None:
    """Deactivate a user of the administrator's organisation and end their sessions; never oneself."""
    organization = administered_organization(by)
    if member.organization_id != organization.pk:
        raise PermissionDenied("That user is not in your organisation.")
    if member.pk == by.pk:
        raise ActionRefused("You cannot remove yourself; ask another administrator.")
    if not member.is_active:
        return
    member.is_active = False
    member.save(update_fields=["is_active"])
    end_sessions_if_deactivated(user=member, was_active=True, request=request, actor=by)
    record_change(by=by, request=request, user=member, what=f"removed {member.get_username()}")


# -- security contacts ---------------------------------------------------------------------------


@transaction.atomic
def add_security_contact(*, by, email: str, request=None) -> None:
    """Add an address breach notices go to; an address already listed is left as it is."""
    organization = _lock(administered_organization(by))
    email = _clean_email(email)
    contacts = organization.security_contact_emails()
    if email in (address.lower() for address in contacts):
        return
    organization.security_contacts = "\n".join([*contacts, email])
    organization.save(update_fields=["security_contacts"])
    record_change(by=by, request=request, what=f"added security contact {email}")


@transaction.atomic
def remove_security_contact(*, by, email: str, request=None) -> None:
    organization = _lock(administered_organization(by))
    contacts = organization.security_contact_emails()
    kept = [address for address in contacts if address.lower() != email.strip().lower()]
    if kept == contacts:
        return
    organization.security_contacts = "\n".join(kept)
    organization.save(update_fields=["security_contacts"])
    record_change(by=by, request=request, what=f"removed security contact {email.strip().lower()}")


# -- the private feeds' read token ---------------------------------------------------------------


@transaction.atomic
def rotate_feed_token(*, by, request=None) -> str:
    """Replace the organisation's feed read token; return the new one (shown once, stored hashed).

    The old token stops working at once: a feed reader holding it gets a 404.
    """
    organization = _lock(administered_organization(by))
    token = FEED_TOKEN_PREFIX + secrets.token_urlsafe(32)
    organization.feed_token_hash = feed_token_digest(token)
    organization.feed_token_rotated_at = timezone.now()
    organization.save(update_fields=["feed_token_hash", "feed_token_rotated_at"])
    record_change(by=by, request=request, what="created a new feed read token (the previous one no longer works)")
    return token
