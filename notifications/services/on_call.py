"""Paging the on-call incident managers when a high or critical case opens with nobody owning it.

Who is on call needs no table: the incident managers (``cases.manage_case``) in the Django group
named ``ON_CALL_GROUP``, kept in Django admin as the rota changes; while that group has nobody who
may manage cases, every incident manager is paged, so a new critical case never goes unnoticed.
"""

from cases.models import Case
from notifications.models import Notification
from notifications.services import outbox

ON_CALL_GROUP = "On call"
PAGED_SEVERITIES = (Case.Severity.CRITICAL, Case.Severity.HIGH)


def on_call_managers():
    """Return the active incident managers on call: the rota group's, or all of them when it has none."""
    managers = outbox.users_with_permission("manage_case")
    rota = managers.filter(groups__name=ON_CALL_GROUP)
    return rota if rota.exists() else managers


def page_if_unowned(*, case, by) -> Notification | None:
    """Tell the on-call managers (inbox and email) about a new high or critical case without an owner.

    The opener is left out (they know), and so is anyone who may not see the case (a restricted
    case reaches only its members). Runs in the transaction that opened the case (outbox).
    """
    if case.owner_id is not None or case.severity not in PAGED_SEVERITIES:
        return None
    return outbox.notify_staff(
        kind=Notification.Kind.CASE_ASSIGNED, users=on_call_managers().exclude(pk=by.pk), case=case,
        title=f"New {case.get_severity_display().lower()} case nobody owns: {case.reference}",
        body=f"{case.title}\nOpened by {by.display_name}. Assign an owner, or take it.",
        dedupe_key=f"on_call_unowned:{case.pk}",
    )
