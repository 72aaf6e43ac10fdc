"""Deciding what an alert group is: a new case, part of an existing case, or nothing.

Each action locks the group and refuses one that someone else already handled, so two
responders clicking at once produce one case. Promotion and attachment are case events on the
timeline; a dismissal touches no case and is kept on the group (who, when, why).
"""

from django.db import transaction
from django.utils import timezone

from cases.access.permissions import can_triage_alerts
from cases.models.exceptions import ActionRefused, NotAllowed
from cases.models import AlertGroup, Case, CaseObservable, Observable, TimelineEvent
from cases.services.cases import open_case
from cases.services.timeline import append_event, lock_for_work

S = AlertGroup.Status
# The case event a group's new status writes.
LINK_EVENTS = {S.PROMOTED: TimelineEvent.Kind.ALERTS_PROMOTED, S.ATTACHED: TimelineEvent.Kind.ALERTS_ATTACHED}


def _lock_waiting(group: AlertGroup, by) -> AlertGroup:
    if not can_triage_alerts(by):
        raise NotAllowed("Only responders and incident managers triage alerts.")
    locked = AlertGroup.objects.select_for_update().get(pk=group.pk)
    if locked.status != S.NEW:
        raise ActionRefused(f"This alert group was already handled: {locked.get_status_display().lower()}.")
    return locked


def _summary(group: AlertGroup) -> str:
    lines = [f"Opened from {group.alert_count} alert(s) in triage group {group.pk}:"]
    for alert in group.alerts.order_by("observed_at")[:20]:
        lines.append(f"- {alert.observed_at:%Y-%m-%d %H:%M} UTC · {alert.get_source_display()} {alert.source_ref} · {alert.title}")
    return "\n".join(lines)


def _link(group: AlertGroup, case: Case, *, by, status: str, headline: str) -> None:
    """Link the group to the case, copy its observables onto the case, and write the case event.

    The event text is ``headline`` and the counts; on a case opened from the group every
    observable copied is new to it, so only an attachment says "new".
    """
    group.status = status
    group.case = case
    group.handled_by = by
    group.handled_at = timezone.now()
    group.save(update_fields=["status", "case", "handled_by", "handled_at"])
    observable_ids = set(Observable.objects.filter(alerts__group=group).values_list("pk", flat=True))
    already = set(CaseObservable.objects.filter(case=case, observable_id__in=observable_ids).values_list("observable_id", flat=True))
    CaseObservable.objects.bulk_create(
        [CaseObservable(case=case, observable_id=pk, added_by=by) for pk in sorted(observable_ids - already)],
        ignore_conflicts=True,
    )
    copied = len(observable_ids - already)
    observables = "new observable(s)" if status == S.ATTACHED else "observable(s)"
    append_event(
        case=case, actor=by, kind=LINK_EVENTS[status],
        text=f"{headline} ({group.alert_count} alert(s), {copied} {observables}).",
        data={"group": group.pk, "alerts": group.alert_count, "observables": copied},
    )


@transaction.atomic
def promote_group(*, group: AlertGroup, by, title: str = "", owner=None, restricted: bool = False) -> Case:
    """Open a case from a waiting group: detected when its first alert was observed, at the group's severity."""
    locked = _lock_waiting(group, by)
    first = locked.alerts.order_by("observed_at", "id").first()
    case = open_case(
        by=by,
        title=(title or locked.title).strip()[:200],
        source=Case.Source.ALERT,
        internal_summary=_summary(locked),
        severity=locked.severity,
        detected_at=first.observed_at if first else locked.first_seen_at,
        owner=owner,
        restricted=restricted,
    )
    _link(locked, case, by=by, status=S.PROMOTED, headline=f"Opened from alert group {locked.pk}")
    return case


@transaction.atomic
def attach_group(*, group: AlertGroup, case: Case, by) -> Case:
    """Add a waiting group to an open case the user works on."""
    locked_case = lock_for_work(case, by)
    if not locked_case.is_open:
        raise ActionRefused(f"{locked_case.reference} is {locked_case.get_status_display().lower()}; reopen it before attaching alerts.")
    locked = _lock_waiting(group, by)
    _link(locked, locked_case, by=by, status=S.ATTACHED, headline=f"Attached alert group {locked.pk}: {locked.title}")
    return locked_case


@transaction.atomic
def dismiss_group(*, group: AlertGroup, by, reason: str, note: str) -> AlertGroup:
    """Take a waiting group out of the queue as a false positive, benign activity or a duplicate."""
    if reason not in AlertGroup.DismissalReason.values:
        raise ActionRefused("Choose why: false positive, benign or duplicate.")
    if not note.strip():
        raise ActionRefused("Say in a note why the alerts need no case.")
    locked = _lock_waiting(group, by)
    locked.status = S.DISMISSED
    locked.dismissal_reason = reason
    locked.dismissal_note = note.strip()
    locked.handled_by = by
    locked.handled_at = timezone.now()
    locked.save(update_fields=["status", "dismissal_reason", "dismissal_note", "handled_by", "handled_at"])
    return locked
