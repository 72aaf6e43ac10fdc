"""Customer tenants and the user model shared by staff and customers."""

from django.contrib.auth.models import AbstractUser
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

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(organization__isnull=True) | models.Q(is_staff=False, is_superuser=False),
                name="customer_users_are_never_admins",
                violation_error_message="A customer user cannot be an admin.",
            )
        ]

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

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username

    @property
    def is_customer(self) -> bool:
        return self.organization_id is not None
