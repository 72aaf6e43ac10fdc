"""Who may do what: role and case-membership questions, answered from the user and the case alone.

This module imports no models, so ``cases.models.case`` can use these functions as django-fsm
transition permissions without an import cycle. Membership comes from ``Case.member_ids()``.
"""


MEMBER_PERMISSION = "view_case"


# The same codenames as ``User.objects.staff()`` and ``User.objects.case_owners()``, copied here
# because this module imports no models at load time (cases.models.case imports it).
STAFF_PERMISSIONS = ("work_case", "read_all_cases", "manage_case")


CASE_OWNER_PERMISSIONS = ("work_case", "manage_case")


def is_customer(user) -> bool:
    """Return whether the user is a customer user (belongs to an organisation); the only such test."""
    return bool(user.is_authenticated and getattr(user, "organization_id", None))


def is_customer_admin(user) -> bool:
    """Return whether the user administers their own organisation (users, contacts, webhooks, feeds); the only such test."""
    return bool(is_customer(user) and user.is_active and getattr(user, "is_customer_admin", False))


def is_staff_user(user) -> bool:
    """Return whether the user works cases (responder, manager, comms or admin): ``User.objects.staff()``."""
    if not user.is_authenticated or not user.is_active or is_customer(user):
        return False
    return user.is_superuser or any(user.has_perm(f"cases.{codename}") for codename in STAFF_PERMISSIONS)


def can_own_cases(user) -> bool:
    """Return whether the user may own a case: ``User.objects.case_owners()``."""
    return is_staff_user(user) and any(user.has_perm(f"cases.{codename}") for codename in CASE_OWNER_PERMISSIONS)


def is_manager(user) -> bool:
    return bool(user.is_authenticated and user.is_active and not is_customer(user) and user.has_perm("cases.manage_case"))


def can_see_deliveries(user) -> bool:
    """Return whether the user reads the delivery log and retries sends: incident managers and admins."""
    return bool(user.is_authenticated and user.is_active and (user.is_superuser or is_manager(user)))


def can_open_cases(user) -> bool:
    return is_staff_user(user) and user.has_perm("cases.work_case")


def can_approve_communication(user) -> bool:
    return is_staff_user(user) and user.has_perm("cases.approve_communication")


def can_send_alerts(user) -> bool:
    """Return whether alerts may arrive as this user: a responder, or a connector's service account."""
    return bool(
        user.is_authenticated and user.is_active and not is_customer(user)
        and (can_open_cases(user) or user.has_perm("cases.add_alert"))
    )


def can_triage_alerts(user) -> bool:
    """Return whether the user may promote, attach or dismiss alert groups (the people who open cases)."""
    return can_open_cases(user)


def role_label(user) -> str:
    if not user.is_authenticated:
        return "anonymous"
    if is_customer(user):
        return "customer admin" if is_customer_admin(user) else "customer"
    if user.is_superuser:
        return "admin"
    if user.has_perm("cases.manage_case"):
        return "manager"
    if user.has_perm("cases.work_case"):
        return "responder"
    if user.has_perm("cases.approve_communication"):
        return "comms"
    return "none"


def is_member(user, case) -> bool:
    return user.pk == case.owner_id or user.pk in case.member_ids()


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


def can_approve_case_text(case, user) -> bool:
    """Return whether the user is one who approves the case's customer text and internal review.

    The case's managers and Communications; the service still refuses the author (four eyes).
    """
    return can_manage_case(case, user) or (can_view_case(user, case) and can_approve_communication(user))


def can_read_case_drafts(case, user) -> bool:
    """Return whether the user may read the case's drafts and internal review: who writes them and who approves them."""
    return can_work_on_case(case, user) or can_approve_case_text(case, user)


INCIDENT_PERMISSION = "view_incident"
