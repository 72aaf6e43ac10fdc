"""Affected customers, breach declaration and the deadlines it starts."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cases import access, signals
from cases.exceptions import ActionRefused, NotAllowed
from cases.models import AffectedCustomer, Case, Deadline, DeadlineDelay, TimelineEvent
from cases.services.timeline import append_event, lock_case, lock_for_work, record_refusal


BREACH_ROWS = Q(data_lost=True) | Q(data_altered=True) | Q(data_disclosed=True)


def _impact_words(row: AffectedCustomer) -> str:
    return ", ".join(row.data_impacts) or "no data impact recorded"


@transaction.atomic
def add_affected_customer(
    *, case: Case, by, organization, data_lost=False, data_altered=False, data_disclosed=False, impact_statement=""
) -> AffectedCustomer:
    locked = lock_for_work(case, by)
    if not locked.is_open:
        raise ActionRefused("The case is closed; reopen it before recording another affected customer.")
    if locked.affected_customers.filter(organization=organization).exists():
        raise ActionRefused(f"{organization} is already listed as affected.")
    row = AffectedCustomer.objects.create(
        case=locked,
        organization=organization,
        data_lost=data_lost,
        data_altered=data_altered,
        data_disclosed=data_disclosed,
        impact_statement=impact_statement.strip(),
        confirmed_at=timezone.now() if (data_lost or data_altered or data_disclosed) else None,
        added_by=by,
    )
    access.grant_incident_access(locked, organization)
    append_event(
        case=locked,
        actor=by,
        kind=TimelineEvent.Kind.CUSTOMER_ADDED,
        text=f"{organization} affected: data {_impact_words(row)}.",
        data={"organization": organization.slug, "impacts": row.data_impacts},
    )
    return row


@transaction.atomic
def remove_affected_customer(*, row: AffectedCustomer, by, reason: str) -> None:
    locked = lock_for_work(row.case, by)
    if not reason.strip():
        raise ActionRefused("Say why this customer is no longer considered affected.")
    if locked.breach_declared_at:
        raise ActionRefused(
            "A breach was declared with this customer affected; correct their impact statement instead of removing them."
        )
    organization = row.organization
    row.delete()
    access.revoke_incident_access(locked, organization)
    append_event(
        case=locked,
        actor=by,
        kind=TimelineEvent.Kind.CUSTOMER_REMOVED,
        text=f"{organization} removed from affected customers: {reason.strip()}",
        data={"organization": organization.slug, "reason": reason.strip()},
    )


def declare_breach(*, case: Case, by, note: str, expected_version: int | None = None) -> Case:
    """Declare a customer reportable breach: stamp it and start the customer-notice clock."""
    try:
        with transaction.atomic():
            locked = lock_for_work(case, by, manage=True, expected_version=expected_version)
            reasons = locked.declare_breach_blockers()
            if not note.strip():
                reasons.append("Write what was found that makes this a breach.")
            if reasons:
                raise ActionRefused(reasons)
            now = timezone.now()
            locked.breach_declared_at = now
            if locked.classification in ("", Case.Classification.SECURITY_INCIDENT, Case.Classification.FALSE_POSITIVE):
                locked.classification = Case.Classification.CUSTOMER_REPORTABLE
            locked.version += 1
            locked.save(update_fields=["breach_declared_at", "classification", "version", "updated_at"])
            deadline = Deadline.objects.create(
                case=locked,
                kind=Deadline.Kind.CUSTOMER_NOTICE,
                started_at=now,
                due_at=now + timedelta(hours=settings.IRT_NOTIFY_WITHIN_HOURS),
            )
            organizations = [row.organization.name for row in locked.affected_customers.select_related("organization") if row.is_breach]
            append_event(
                case=locked,
                actor=by,
                kind=TimelineEvent.Kind.BREACH_DECLARED,
                text=f"Breach declared affecting {', '.join(organizations)}. Customer notice due "
                f"{deadline.due_at:%Y-%m-%d %H:%M} UTC. {note.strip()}",
                data={"organizations": organizations, "due_at": deadline.due_at.isoformat(), "note": note.strip()},
            )
            signals.breach_declared.send(sender=Case, case=locked, by=by)
            return locked
    except (ActionRefused, NotAllowed) as refusal:
        record_refusal(case=case, actor=by, action="Declare breach", reasons=getattr(refusal, "reasons", [str(refusal)]))
        raise


@transaction.atomic
def record_customer_notified(*, row: AffectedCustomer, by, how: str, at=None) -> AffectedCustomer:
    """Record that an affected organisation received its breach notice; meet the deadline when all have."""
    locked = lock_case(row.case)
    if by is not None and not access.can_work_on_case(locked, by):
        raise NotAllowed("You can read this case but not change it.")
    row = AffectedCustomer.objects.select_for_update().get(pk=row.pk)
    if row.notified_at:
        return row
    row.notified_at = at or timezone.now()
    row.save(update_fields=["notified_at"])
    append_event(
        case=locked,
        actor=by,
        kind=TimelineEvent.Kind.CUSTOMER_NOTIFIED,
        text=f"{row.organization} notified ({how}).",
        data={"organization": row.organization.slug, "how": how},
    )
    # One query, not a walk over every row: a large breach notifies thousands of organisations.
    pending = locked.affected_customers.filter(BREACH_ROWS, notified_at__isnull=True).exists()
    deadline = locked.deadlines.filter(kind=Deadline.Kind.CUSTOMER_NOTICE, met_at__isnull=True).first()
    if deadline and not pending:
        deadline.met_at = row.notified_at
        deadline.save(update_fields=["met_at"])
        append_event(
            case=locked,
            actor=by,
            kind=TimelineEvent.Kind.DEADLINE_MET,
            text=f"{deadline.get_kind_display()} deadline met"
            f"{' late' if deadline.met_at > deadline.due_at else ''}: every affected customer notified.",
            data={"deadline": deadline.kind, "late": deadline.met_at > deadline.due_at},
        )
    return row


@transaction.atomic
def request_deadline_delay(*, deadline: Deadline, by, new_due_at, reason: str) -> DeadlineDelay:
    locked = lock_for_work(deadline.case, by)
    if deadline.is_met:
        raise ActionRefused("This deadline is already met.")
    if not reason.strip():
        raise ActionRefused("Give the reason for the delay; it is part of the record.")
    if new_due_at <= deadline.due_at:
        raise ActionRefused("A delay must move the deadline later.")
    delay = DeadlineDelay.objects.create(deadline=deadline, new_due_at=new_due_at, reason=reason.strip(), requested_by=by)
    append_event(
        case=locked,
        actor=by,
        kind=TimelineEvent.Kind.DEADLINE_DELAY_REQUESTED,
        text=f"Delay of the {deadline.get_kind_display().lower()} deadline to {new_due_at:%Y-%m-%d %H:%M} UTC requested: {reason.strip()}",
        data={"deadline": deadline.kind, "new_due_at": new_due_at.isoformat(), "reason": reason.strip()},
    )
    return delay


@transaction.atomic
def approve_deadline_delay(*, delay: DeadlineDelay, by) -> DeadlineDelay:
    locked = lock_for_work(delay.deadline.case, by, manage=True)
    delay = DeadlineDelay.objects.select_for_update().select_related("deadline").get(pk=delay.pk)
    if delay.approved_at:
        raise ActionRefused("This delay is already approved.")
    if delay.requested_by_id == by.pk:
        raise ActionRefused("Someone other than the requester must approve a delay.")
    delay.approved_by = by
    delay.approved_at = timezone.now()
    delay.save(update_fields=["approved_by", "approved_at"])
    deadline = delay.deadline
    old_due = deadline.due_at
    deadline.due_at = delay.new_due_at
    deadline.save(update_fields=["due_at"])
    append_event(
        case=locked,
        actor=by,
        kind=TimelineEvent.Kind.DEADLINE_DELAY_APPROVED,
        text=f"{deadline.get_kind_display()} deadline moved from {old_due:%Y-%m-%d %H:%M} to "
        f"{deadline.due_at:%Y-%m-%d %H:%M} UTC: {delay.reason}",
        data={"deadline": deadline.kind, "from": old_due.isoformat(), "to": deadline.due_at.isoformat()},
    )
    return delay
