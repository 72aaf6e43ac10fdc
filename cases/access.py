"""Who may see and act on what: the one place case access is decided.

Views look cases up through ``get_case_for``; the lifecycle transitions use ``can_work_on_case``
and ``can_manage_case`` as their django-fsm ``permission``, so the browser, admin and commands
share these rules. A user who may not know a case exists gets a 404, never a 403.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

MEMBER_PERMISSION = "view_case"


def is_customer(user) -> bool:
    return bool(user.is_authenticated and getattr(user, "organization_id", None))


def is_staff_user(user) -> bool:
    """Return whether the user works cases (responder, manager, comms or admin)."""
    if not user.is_authenticated or not user.is_active or is_customer(user):
        return False
    return user.is_superuser or any(
        user.has_perm(f"cases.{codename}") for codename in ("work_case", "read_all_cases", "manage_case")
    )


def is_manager(user) -> bool:
    return bool(user.is_authenticated and user.is_active and not is_customer(user) and user.has_perm("cases.manage_case"))


def can_open_cases(user) -> bool:
    return is_staff_user(user) and user.has_perm("cases.work_case")


def can_approve_communication(user) -> bool:
    return is_staff_user(user) and user.has_perm("cases.approve_communication")


def role_label(user) -> str:
    if not user.is_authenticated:
        return "anonymous"
    if is_customer(user):
        return "customer"
    if user.is_superuser:
        return "admin"
    if user.has_perm("cases.manage_case"):
        return "manager"
    if user.has_perm("cases.work_case"):
        return "responder"
    if user.has_perm("cases.approve_communication"):
        return "comms"
    return "none"


def member_ids(case) -> set[int]:
    """Return the ids of users who are members of the case (cached on the instance)."""
    cached = getattr(case, "_member_ids", None)
    if cached is None:
        from cases.models import CaseUserObjectPermission

        cached = set(
            CaseUserObjectPermission.objects.filter(
                content_object=case, permission__codename=MEMBER_PERMISSION
            ).values_list("user_id", flat=True)
        )
        case._member_ids = cached
    return cached


def is_member(user, case) -> bool:
    return user.pk == case.owner_id or user.pk in member_ids(case)


def can_view_case(user, case) -> bool:
    if not is_staff_user(user):
        return False
    if user.is_superuser or is_member(user, case):
        return True
    return not case.restricted and (user.has_perm("cases.read_all_cases") or user.has_perm("cases.manage_case"))


def can_work_on_case(case, user) -> bool:
    """Return whether the user may change the case (notes, tasks, ordinary transitions)."""
    if not can_view_case(user, case):
        return False
    if user.is_superuser or user.has_perm("cases.manage_case"):
        return True
    return user.has_perm("cases.work_case") and is_member(user, case)


def can_manage_case(case, user) -> bool:
    """Return whether the user may close, reopen or declare a breach on the case."""
    return can_work_on_case(case, user) and (user.is_superuser or user.has_perm("cases.manage_case"))


def visible_cases(user) -> QuerySet:
    from cases.models import Case, CaseUserObjectPermission

    if not is_staff_user(user):
        return Case.objects.none()
    if user.is_superuser:
        return Case.objects.all()
    membership = Q(owner=user) | Q(
        pk__in=CaseUserObjectPermission.objects.filter(
            user=user, permission__codename=MEMBER_PERMISSION
        ).values("content_object_id")
    )
    if user.has_perm("cases.read_all_cases") or user.has_perm("cases.manage_case"):
        return Case.objects.filter(Q(restricted=False) | membership)
    return Case.objects.filter(membership)


def tied_to_visible_case_q(user, field: str = "case") -> Q:
    """Return a filter for rows whose case (reached through ``field``) the user may know, or with no case.

    Other apps filter their case-linked rows with it (``notification__case``), so a row is never
    listed where its case would be a 404. Rows with no case are left to the caller's own gate.
    """
    return Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__in": visible_cases(user).values("pk")})


def get_case_for(user, reference: str, *, write: bool = False, queryset: QuerySet | None = None):
    """Return the case the user asked for: 404 if they may not know it, 403 if they may not act."""
    from cases.models import Case

    queryset = queryset if queryset is not None else Case.objects.all()
    try:
        case = queryset.get(reference=reference)
    except Case.DoesNotExist:
        raise Http404("No such case.") from None
    if not can_view_case(user, case):
        raise Http404("No such case.")
    if write and not can_work_on_case(case, user):
        raise PermissionDenied("You can read this case but not change it.")
    return case


# -- customers ---------------------------------------------------------------------------

INCIDENT_PERMISSION = "view_incident"


def organization_group(organization):
    """Return the organisation's access group, creating it on first use."""
    from django.contrib.auth.models import Group

    if organization.access_group_id is None:
        group, _ = Group.objects.get_or_create(name=f"Customer organisation: {organization.slug}")
        organization.access_group = group
        organization.save(update_fields=["access_group"])
    return organization.access_group


def grant_incident_access(case, organization) -> None:
    from guardian.shortcuts import assign_perm

    assign_perm(INCIDENT_PERMISSION, organization_group(organization), case)


def revoke_incident_access(case, organization) -> None:
    from guardian.shortcuts import remove_perm

    remove_perm(INCIDENT_PERMISSION, organization_group(organization), case)


def customer_incidents(user) -> QuerySet:
    """Return the cases whose incident page the customer's organisation may read (published only).

    Both must hold: the organisation's group holds ``view_incident`` (granted on confirmation,
    revoked on withdrawal) and its affected row is confirmed and not withdrawn.
    """
    from cases.models import AffectedCustomer, Case, CaseGroupObjectPermission

    if not is_customer(user) or not user.is_active:
        return Case.objects.none()
    granted = CaseGroupObjectPermission.objects.filter(
        group__organization=user.organization_id, permission__codename=INCIDENT_PERMISSION
    ).values("content_object_id")
    confirmed = AffectedCustomer.objects.visible_to(user.organization_id).values("case_id")
    return Case.objects.filter(pk__in=granted, updates__published_at__isnull=False).filter(pk__in=confirmed).distinct()


def get_incident_for(user, reference: str):
    """Return the case for a customer's incident page; 404 whenever they may not read it."""
    case = customer_incidents(user).filter(reference=reference).first()
    if case is None:
        raise Http404("No such incident.")
    return case
