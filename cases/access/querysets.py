"""Which rows a user may know about: the querysets every list, selector and other app filters with."""

from django.db.models import Q, QuerySet

from cases.access.permissions import INCIDENT_PERMISSION, MEMBER_PERMISSION, is_customer, is_staff_user
from cases.models import AffectedCustomer, Case, CaseGroupObjectPermission, CaseUserObjectPermission, IncidentUpdate, User


def visible_cases(user) -> QuerySet:
    if not is_staff_user(user):
        return Case.objects.none()
    if user.is_superuser:
        return Case.objects.all()
    membership = owned_or_member_q(user)
    if user.has_perm("cases.read_all_cases") or user.has_perm("cases.manage_case"):
        return Case.objects.filter(Q(restricted=False) | membership)
    return Case.objects.filter(membership)


def owned_or_member_q(user) -> Q:
    """Return a filter for the cases the user owns or is a member of ("my cases")."""
    return Q(owner=user) | Q(
        pk__in=CaseUserObjectPermission.objects.filter(
            user=user, permission__codename=MEMBER_PERMISSION
        ).values("content_object_id")
    )


def tied_to_visible_case_q(user, field: str = "case") -> Q:
    """Return a filter for rows whose case (reached through ``field``) the user may know, or with no case.

    Other apps filter their case-linked rows with it (``notification__case``), so a row is never
    listed where its case would be a 404. Rows with no case are left to the caller's own gate.
    """
    return Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__in": visible_cases(user).values("pk")})


def customer_incidents(user) -> QuerySet:
    """Return the cases whose incident page the customer's organisation may read (published only).

    Both must hold: the organisation's group holds ``view_incident`` (granted on confirmation,
    revoked on withdrawal) and its affected row is confirmed and not withdrawn.
    """
    if not reads_incidents(user):
        return Case.objects.none()
    return organization_incidents(user.organization_id)


def reads_incidents(user) -> bool:
    """Return whether the user may read any incident page at all: an active customer user (the gate of ``customer_incidents``)."""
    return bool(is_customer(user) and user.is_active)


def organization_incidents(organization_id) -> QuerySet:
    """Return the cases whose incident page the organisation may read: ``customer_incidents`` for a feed token."""
    granted = CaseGroupObjectPermission.objects.filter(
        group__organization=organization_id, permission__codename=INCIDENT_PERMISSION
    ).values("content_object_id")
    confirmed = AffectedCustomer.objects.visible_to(organization_id).values("case_id")
    published = IncidentUpdate.objects.published().values("case_id")
    return Case.objects.filter(pk__in=granted).filter(pk__in=published).filter(pk__in=confirmed)


def staff_role(user) -> tuple:
    """Return what decides the shape of a staff user's access queries: the superuser flag and the model permissions.

    ``visible_cases`` and ``is_staff_user`` branch on these alone; the user's id is a parameter. A
    query compiled once per role (``cases.access.prepared``) is built from ``stand_in_viewer``.
    """
    return user.is_superuser, frozenset(user.get_all_permissions())


def stand_in_viewer(role: tuple, user_id: int):
    """Return an unsaved active staff user of ``role`` whose id is the placeholder ``user_id``.

    The access functions build a role's queries from it exactly as from the viewer. Should one of
    them come to read another attribute of the user, the prepared-query tests (dashboard, case list)
    see the prepared rows part from the ORM's for some role.
    """
    superuser, permissions = role
    stand_in = User(pk=user_id, is_superuser=superuser, is_active=True)
    stand_in.has_perm = lambda perm, obj=None: obj is None and (superuser or perm in permissions)
    return stand_in
