"""Django's model permission backend, reading the signed-in user with their permissions in one query.

``ModelBackend`` asks three times on a signed-in request: the user, their own permissions, their
groups' permissions; django-otp then asks for the second-factor device the session names. Every
staff request pays for all four (issue 18: a staff request cost ten anonymous ones), so the user
is read with their permissions, their confirmed second-factor devices and their organisation in
one query, compiled once per process (``cases/access/prepared.py``). On PostgreSQL the session
store keeps that read between requests only until a trigger reports a change to any row it came
from (``cases/access/sessions/memo.py``), so a revoked permission, device or account counts within
milliseconds of its commit. What it answers, and its per-request cache (``_perm_cache``), stay Django's.
"""

import functools
from contextvars import ContextVar

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


def joined_values(queryset, owner_path: str, label, outer: str):
    """A subquery: ``label`` of each row of ``queryset`` whose ``owner_path`` is the outer row's ``outer``, joined into one text."""
    rows = queryset.filter(**{owner_path: OuterRef(outer)}).order_by().values(owner_path)
    return Subquery(rows.annotate(joined=_Joined(label)).values("joined"))


def words(*values) -> list[str]:
    """The words of ``joined_values`` columns (None where nothing was joined)."""
    return " ".join(value for value in values if value).split()


def _device_ids(model, outer: str):
    """The persistent ids (django-otp's ``app_label.model/id``) of the outer user's confirmed devices of ``model``."""
    prefix = f"{model._meta.app_label}.{model._meta.model_name}/"
    return joined_values(model.objects.filter(confirmed=True), "user", Concat(Value(prefix), Cast("id", TextField())), outer)


SIGNED_IN_ANNOTATIONS = ("signed_in_own_permissions", "signed_in_group_permissions", "signed_in_totp_devices",
                         "signed_in_static_devices")


def signed_in_annotations(outer: str) -> dict:
    """The user's permissions and confirmed devices as four text columns of a query whose ``outer`` is the user's id.

    ``outer`` is ``"pk"`` on the user's own query, ``"user"`` on the session's (``cases.access.sessions``).
    """
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    label = Concat("content_type__app_label", Value("."), "codename", output_field=TextField())
    columns = (joined_values(Permission.objects, "user", label, outer), joined_values(Permission.objects, "group__user", label, outer),
               _device_ids(TOTPDevice, outer), _device_ids(StaticDevice, outer))
    return dict(zip(SIGNED_IN_ANNOTATIONS, columns))


@functools.cache
def _signed_in_user() -> PreparedQuery:
    from django.contrib.auth import get_user_model

    def build(user_id):
        return get_user_model()._default_manager.select_related("organization").filter(pk=user_id).annotate(
            **signed_in_annotations("pk"))

    return PreparedQuery(build, placeholders={"user_id": -730001}, others={"user_id": -730002})


# The session object of the request whose user Django's ``auth.get_user`` is reading: set only around that call
# (``cases.views.middleware.SignedInUserMiddleware``), so a user read with one request's session serves no other.
reading_session: ContextVar = ContextVar("reading_session", default=None)


class PermissionBackend(ModelBackend):
    def get_user(self, user_id):
        """Return the signed-in user with their permissions and confirmed second-factor devices, in one query.

        When the request's session was read from the database, the user came with it, in the same query
        (``cases.access.sessions``); otherwise (a session from the cache) they are read here.

        ``confirmed_second_factors`` holds the persistent ids of the user's confirmed devices, read with
        the user: ``SecondFactorMiddleware`` checks the session's device against it without a query.
        """
        session = reading_session.get()
        user = getattr(session, "signed_in_user", None)
        if user is not None and str(user.pk) == str(user_id):
            session.signed_in_user = None  # served once: a second read in the request asks the database again
        else:
            found = _signed_in_user().objects(user_id=user_id)
            user = found[0] if found else None
        if user is None or not self.user_can_authenticate(user):
            return None
        if not user.is_superuser:  # a superuser holds every permission: Django answers without asking
            user._perm_cache = set(words(user.signed_in_own_permissions, user.signed_in_group_permissions))
        user.confirmed_second_factors = frozenset(words(user.signed_in_totp_devices, user.signed_in_static_devices))
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
