"""Django's model permission backend, reading a user's own and group permissions in one query.

``ModelBackend`` asks twice (the user's permissions, then their groups'); every staff request and
every API call asks, so the two become one ``UNION``. What it answers, and its per-request cache
(``_perm_cache``), stay Django's.
"""

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission


class PermissionBackend(ModelBackend):
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
