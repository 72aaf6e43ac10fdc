"""Django's model permission backend, reading the signed-in user with their permissions in one query.

``ModelBackend`` asks three times on a signed-in request: the user, their own permissions, their
groups' permissions; django-otp then asks for the second-factor device the session names. Every
staff request pays for all four (issue 18: a staff request cost ten anonymous ones), so the user
is read with their permissions, their confirmed second-factor devices and their organisation in
one query, compiled once per process (``cases/access/prepared.py``). Nothing is kept between
requests: every request reads the rows afresh, so a revoked permission, device or account counts
at once. What it answers, and its per-request cache (``_perm_cache``), stay Django's.
"""

import functools

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db.models import Aggregate, OuterRef, Subquery, TextField, Value
from django.db.models.functions import Cast, Concat

from cases.access.prepared import PreparedQuery


class _Joined(Aggregate):
    """A text column's values joined with spaces, as one value (``STRING_AGG``; ``GROUP_CONCAT`` on SQLite)."""

    function = "STRING_AGG"
    output_field = TextField()

    def __init__(self, expression):
        super().__init__(expression, Value(" "))

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, function="GROUP_CONCAT", **extra)


def _joined(queryset, user_path: str, label):
    """A subquery: ``label`` of each row of ``queryset`` that belongs to the outer user, joined into one text."""
    rows = queryset.filter(**{user_path: OuterRef("pk")}).order_by().values(user_path)
    return Subquery(rows.annotate(joined=_Joined(label)).values("joined"))


def _device_ids(model):
    """The persistent ids (django-otp's ``app_label.model/id``) of the outer user's confirmed devices of ``model``."""
    prefix = f"{model._meta.app_label}.{model._meta.model_name}/"
    return _joined(model.objects.filter(confirmed=True), "user", Concat(Value(prefix), Cast("id", TextField())))


@functools.cache
def _signed_in_user() -> PreparedQuery:
    from django.contrib.auth import get_user_model
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    label = Concat("content_type__app_label", Value("."), "codename", output_field=TextField())

    def build(user_id):
        return get_user_model()._default_manager.select_related("organization").filter(pk=user_id).annotate(
            signed_in_own_permissions=_joined(Permission.objects, "user", label),
            signed_in_group_permissions=_joined(Permission.objects, "group__user", label),
            signed_in_totp_devices=_device_ids(TOTPDevice),
            signed_in_static_devices=_device_ids(StaticDevice),
        )

    return PreparedQuery(build, placeholders={"user_id": -730001}, others={"user_id": -730002})


def _words(*values) -> list[str]:
    return " ".join(value for value in values if value).split()


class PermissionBackend(ModelBackend):
    def get_user(self, user_id):
        """Return the signed-in user with their permissions and confirmed second-factor devices, in one query.

        ``confirmed_second_factors`` holds the persistent ids of the user's confirmed devices, read with
        the user: ``SecondFactorMiddleware`` checks the session's device against it without a query.
        """
        found = _signed_in_user().objects(user_id=user_id)
        user = found[0] if found else None
        if user is None or not self.user_can_authenticate(user):
            return None
        if not user.is_superuser:  # a superuser holds every permission: Django answers without asking
            user._perm_cache = set(_words(user.signed_in_own_permissions, user.signed_in_group_permissions))
        user.confirmed_second_factors = frozenset(_words(user.signed_in_totp_devices, user.signed_in_static_devices))
        return user

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            user_obj._perm_cache = {f"{app_label}.{codename}" for app_label, codename in _permission_rows(user_obj)}
        return user_obj._perm_cache


def _permission_rows(user):
    # Unordered: Permission's default ordering is not allowed inside a UNION on SQLite.
    rows = Permission.objects.order_by().values_list("content_type__app_label", "codename")
    if user.is_superuser:
        return rows
    return rows.filter(user=user).union(rows.filter(group__user=user))
