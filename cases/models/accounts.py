"""Customer tenants and the user model shared by staff and customers."""

import functools
import hashlib

from django.conf import settings
from django.contrib.auth import load_backend
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import validate_email
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils.crypto import salted_hmac


class Organization(models.Model):
    """A customer tenant. Customer users belong to exactly one; staff belong to none."""

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    security_contacts = models.TextField(
        blank=True,
        help_text="Email addresses that receive security notices, one per line.",
    )
    # Guardian grants an affected organisation its incident pages through this group; customer
    # users reach it through ``User.organization``, so there is no second membership to keep in step.
    access_group = models.OneToOneField(
        "auth.Group", null=True, blank=True, editable=False, on_delete=models.PROTECT, related_name="organization"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Defaults for which regulatory clocks a breach affecting the organisation starts (cases.models.clock_rules).
    in_eu = models.BooleanField("in the EU", default=False, help_text="GDPR applies: pre-tick GDPR Art. 33.")
    nis2_entity = models.BooleanField("NIS2 entity", default=False, help_text="Pre-tick the NIS2 Art. 23 clocks.")
    financial_entity = models.BooleanField(default=False, help_text="DORA applies: pre-tick the DORA clocks.")
    hipaa_covered_entity = models.BooleanField("HIPAA covered entity", default=False, help_text="Pre-tick the HIPAA notice.")
    # The read token of the organisation's private feeds (cases/services/customer_admin.py): only its
    # SHA-256 is kept; the token itself is shown once to the customer administrator who rotates it.
    feed_token_hash = models.CharField(max_length=64, blank=True, editable=False, db_index=True)
    feed_token_rotated_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        for address in self.security_contact_emails():
            try:
                validate_email(address)
            except ValidationError:
                raise ValidationError({"security_contacts": f"{address!r} is not an email address."}) from None

    def security_contact_emails(self) -> list[str]:
        return [line.strip() for line in self.security_contacts.splitlines() if line.strip()]


def feed_token_digest(token: str) -> str:
    """Return what ``Organization.feed_token_hash`` stores for a feed read token (SHA-256, hex)."""
    return hashlib.sha256(token.encode()).hexdigest()


# Who works cases and who may own one, by ``cases.*`` permission codename. The per-user
# predicates in ``cases.access`` (``is_staff_user``, ``can_own_cases``) ask the same codenames.
STAFF_PERMISSIONS = ("work_case", "read_all_cases", "manage_case")
CASE_OWNER_PERMISSIONS = ("work_case", "manage_case")


class UserQuerySet(models.QuerySet):
    def _holding_any(self, codenames) -> models.Q:
        # A superuser holds every permission, as ``User.has_perm`` says.
        return (
            models.Q(is_superuser=True)
            | models.Q(groups__permissions__codename__in=codenames, groups__permissions__content_type__app_label="cases")
            | models.Q(user_permissions__codename__in=codenames, user_permissions__content_type__app_label="cases")
        )

    def with_case_permission(self, *codenames: str):
        """Active non-customer users holding any of ``cases.<codename>`` (directly, by group, or as superuser)."""
        return self.filter(self._holding_any(codenames), is_active=True, organization__isnull=True).distinct()

    def staff(self):
        """The response team: who may be a member or an assignee (``access.is_staff_user``)."""
        return self.with_case_permission(*STAFF_PERMISSIONS)

    def case_owners(self):
        """Who may own a case (``access.can_own_cases``): responders, incident managers, admins."""
        return self.with_case_permission(*CASE_OWNER_PERMISSIONS)


@functools.lru_cache(maxsize=8)
def _backends(paths: tuple) -> tuple:
    """The authentication backends of ``paths`` (``settings.AUTHENTICATION_BACKENDS``), each built once per process."""
    return tuple(load_backend(path) for path in paths)


class IrtUserManager(UserManager.from_queryset(UserQuerySet)):
    pass


class User(AbstractUser):
    """A person who signs in. ``organization`` set means a customer user, never staff."""

    organization = models.ForeignKey(
        Organization,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
        help_text="Set for customer users only. Customer users see their organisation's incident pages.",
    )
    # Part of the session hash: raising it ends every session of the user (sign-out everywhere,
    # deactivation), the way a password change does.
    session_generation = models.PositiveIntegerField(default=0, editable=False)
    # A connector's account (a SIEM, a SOAR): it acts only through API tokens and never signs in.
    is_service_account = models.BooleanField(
        default=False, help_text="Acts only through API tokens; cannot sign in to the browser."
    )

    # A customer administrator manages their own organisation's users, contacts, channels and feeds
    # (``cases.access.permissions.is_customer_admin``); meaningless for staff.
    is_customer_admin = models.BooleanField(
        "customer administrator", default=False,
        help_text="Customer users only: manages the organisation's users, security contacts, webhooks and feeds.",
    )

    objects = IrtUserManager()

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(organization__isnull=True) | models.Q(is_staff=False, is_superuser=False),
                name="customer_users_are_never_admins",
                violation_error_message="A customer user cannot be an admin.",
            )
        ]

    def has_perm(self, perm, obj=None) -> bool:
        """Django's answer, with the model-wide permissions of every backend read once per user object.

        Django asks each authentication backend again for every ``has_perm``, importing the backend
        each time; one API call or staff page asks a dozen questions (``cases.access.permissions``).
        The set is kept as long as Django's own per-user ``_perm_cache`` is, and object permissions,
        superusers and inactive users still take Django's path.
        """
        if obj is not None or not self.is_active or self.is_superuser:
            return super().has_perm(perm, obj)
        return perm in self.model_permissions()

    def model_permissions(self) -> frozenset:
        """The model-wide permissions every backend grants this user object, read once per object (``has_perm``).

        The signed-in user kept for a session (``cases.access.sessions.memo``) is kept with them read, so a
        request's own copy answers ``has_perm`` without asking the backends.
        """
        try:
            return self._model_permissions
        except AttributeError:
            # Django's get_all_permissions(), from backends loaded once per process: Django imports and builds each
            # backend anew on every call, a fifth of a signed-in request's own cost (issue 18). Backends hold no state.
            self._model_permissions = frozenset().union(*(
                backend.get_all_permissions(self) for backend in _backends(tuple(settings.AUTHENTICATION_BACKENDS))
                if hasattr(backend, "get_all_permissions")))
            return self._model_permissions

    def get_absolute_url(self) -> str:
        return reverse("admin:cases_user_change", args=[self.pk])

    def _get_session_auth_hash(self, secret=None):
        # Django 5.2 checks sessions (and SECRET_KEY_FALLBACKS) through this method. Generation 0
        # keeps Django's own hash, so sessions opened before this field existed stay valid.
        if not self.session_generation:
            return super()._get_session_auth_hash(secret=secret)
        return salted_hmac(
            "cases.User.session_auth_hash", f"{self.password}:{self.session_generation}", secret=secret,
            algorithm="sha256",
        ).hexdigest()

    def check_password(self, raw_password) -> bool:
        # A service account never signs in with a password, wherever one might have been set.
        return False if self.is_service_account else super().check_password(raw_password)

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username

