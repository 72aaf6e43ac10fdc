"""Affected customers, breach declaration and the deadlines it starts.

No single person can expose an incident: a row someone adds reaches the organisation only
when a second person (incident manager or Communications) confirms it, and an impact
statement changed after confirmation waits for the same. Notices are in ``notices``.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cases.access.grants import grant_incident_access, revoke_incident_access
from cases.models import hooks
from cases.services import signals
from cases.models.exceptions import ActionRefused, NotAllowed
from cases.models import AffectedCustomer, Case, Deadline, DeadlineDelay, IncidentPageView, TimelineEvent
from cases.models.approval import ensure_second_person
from cases.services import notices, tasks
from cases.services.approval import ensure_may_approve, stamp_approval
from cases.services.clocks import record_decision_on_locked_case
from cases.services.timeline import append_event, lock_case, lock_for_work, record_refusal


def _impact_words(row: AffectedCustomer) -> str:
    return ", ".join(row.data_impacts) or "no data impact recorded"


def _lock_row(row: AffectedCustomer, case: Case) -> AffectedCustomer:
    row = AffectedCustomer.objects.select_for_update().select_related("organization").get(pk=row.pk, case=case)
    if row.is_withdrawn:
        raise ActionRefused(f"{row.organization} was withdrawn from the affected customers; add them again if they are affected.")
    return row


@transaction.atomic
def add_affected_customer(
    *, case: Case, by, organization, data_lost=False, data_altered=False, data_disclosed=False, impact_statement=""
) -> AffectedCustomer:
    """Record an organisation as affected, awaiting a second person's confirmation before it sees anything."""
    locked = lock_for_work(case, by)
    if not locked.is_open:
        raise ActionRefused("The case is closed; reopen it before recording another affected customer.")
    if locked.affected_customers.active().filter(organization=organization).exists():
        raise ActionRefused(f"{organization} is already listed as affected.")
    row = AffectedCustomer.objects.create(
        case=locked,
        organization=organization,
        data_lost=data_lost,
        data_altered=data_altered,
        data_disclosed=data_disclosed,
        impact_statement=impact_statement.strip(),
        added_by=by,
    )
    notices.append_row_event(
        case=locked, by=by, row=row, kind=TimelineEvent.Kind.CUSTOMER_ADDED,
        text=f"{organization} affected: data {_impact_words(row)}. Awaiting confirmation by a second person.",
        impacts=row.data_impacts,
    )
    return row


@transaction.atomic
def edit_affected_customer(
    *, row: AffectedCustomer, by, data_lost: bool, data_altered: bool, data_disclosed: bool, impact_statement: str
) -> AffectedCustomer:
    """Change what happened to an organisation's data; a confirmed row's new impact text awaits confirmation."""
    locked = lock_for_work(row.case, by)
    row = _lock_row(row, locked)
    impact_statement = impact_statement.strip()
    before = row.data_impacts
    row.data_lost, row.data_altered, row.data_disclosed = data_lost, data_altered, data_disclosed
    fields = ["data_lost", "data_altered", "data_disclosed"]
    changes = []
    if row.data_impacts != before:
        changes.append(f"data {_impact_words(row)} (was: {', '.join(before) or 'no data impact'})")
    if row.confirmed_at is None:
        # Nothing is visible yet: the text changes in place, and the editor may not confirm it.
        if impact_statement != row.impact_statement:
            row.impact_statement = impact_statement
            changes.append("impact statement changed")
        row.edited_by = by
        fields += ["impact_statement", "edited_by"]
    elif impact_statement != (row.pending_impact_statement if row.has_pending_impact else row.impact_statement):
        if impact_statement == row.impact_statement:
            row.pending_impact_statement, row.pending_impact_by, row.pending_impact_at = "", None, None
            changes.append("pending impact statement edit dropped")
        else:
            row.pending_impact_statement, row.pending_impact_by, row.pending_impact_at = impact_statement, by, timezone.now()
            changes.append("impact statement edit awaiting confirmation by a second person")
        fields += ["pending_impact_statement", "pending_impact_by", "pending_impact_at"]
    if not changes:
        raise ActionRefused("Nothing changed.")
    row.save(update_fields=fields)
    notices.append_row_event(
        case=locked, by=by, row=row, kind=TimelineEvent.Kind.CUSTOMER_CHANGED,
        text=f"{row.organization}: {'; '.join(changes)}.", impacts=row.data_impacts,
    )
    notices.meet_customer_notice_if_done(case=locked, by=by)
    return row


@transaction.atomic
def confirm_affected_customer(*, row: AffectedCustomer, by) -> AffectedCustomer:
    """Confirm what awaits a second person on the row: the row itself (granting access) or its new impact text."""
    locked = lock_case(row.case)
    ensure_may_approve(locked, by, "Only an incident manager or a communications reviewer can confirm an affected organisation.")
    row = _lock_row(row, locked)
    if row.confirmed_at is None:
        ensure_second_person(row, by, f"You added or edited {row.organization}; someone else must confirm it.")
        row.confirmed_by, row.confirmed_at = by, timezone.now()
        row.save(update_fields=["confirmed_by", "confirmed_at"])
        grant_incident_access(locked, row.organization)
        notices.append_row_event(
            case=locked, by=by, row=row, kind=TimelineEvent.Kind.CUSTOMER_CONFIRMED,
            text=f"{row.organization} confirmed as affected (data {_impact_words(row)}); they can now read the incident page.",
            impacts=row.data_impacts,
        )
        signals.affected_customer_confirmed.send(sender=Case, case=locked, row=row, by=by)
        return row
    if not row.has_pending_impact:
        raise ActionRefused(f"{row.organization} is already confirmed; nothing awaits confirmation.")
    if row.pending_impact_by_id == by.pk:
        raise ActionRefused("You wrote this impact statement; someone else must confirm it.")
    row.impact_statement = row.pending_impact_statement
    row.pending_impact_statement, row.pending_impact_by, row.pending_impact_at = "", None, None
    row.save(update_fields=["impact_statement", "pending_impact_statement", "pending_impact_by", "pending_impact_at"])
    notices.append_row_event(
        case=locked, by=by, row=row, kind=TimelineEvent.Kind.CUSTOMER_CONFIRMED,
        text=f"New impact statement for {row.organization} confirmed; the customer now reads it.", impact_statement=True,
    )
    return row


def _exposure(row: AffectedCustomer) -> list[dict]:
    """Return who of the organisation opened the page or received a notice while it had access."""
    if row.confirmed_at is None:
        return []
    found = [
        {"who": view.user.get_username(), "what": "opened the incident page", "at": view.viewed_at}
        for view in IncidentPageView.objects.filter(
            case=row.case_id, organization=row.organization_id, viewed_at__gte=row.confirmed_at
        ).select_related("user")
    ]
    found += hooks.exposure(row, row.confirmed_at)
    found.sort(key=lambda item: item["at"])
    return [{**item, "at": item["at"].isoformat()} for item in found]


@transaction.atomic
def withdraw_affected_customer(*, row: AffectedCustomer, by, reason: str) -> AffectedCustomer:
    """Withdraw a wrong row: revoke access at once, keep the row, and turn any exposure into a task."""
    locked = lock_for_work(row.case, by)
    reason = reason.strip()
    if not reason:
        raise ActionRefused("Say why this customer is no longer considered affected.")
    if not locked.is_open:
        raise ActionRefused("The case is closed; reopen it before withdrawing an affected customer.")
    row = _lock_row(row, locked)
    now = timezone.now()
    row.exposure = _exposure(row)
    row.withdrawn_at, row.withdrawn_by, row.withdrawal_reason = now, by, reason
    row.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawal_reason", "exposure"])
    revoke_incident_access(locked, row.organization)
    exposed = "; ".join(f"{item['who']} {item['what']} at {item['at'][:16].replace('T', ' ')} UTC" for item in row.exposure)
    notices.append_row_event(
        case=locked, by=by, row=row, kind=TimelineEvent.Kind.CUSTOMER_WITHDRAWN,
        text=f"{row.organization} withdrawn from affected customers: {reason}"
        + (f" While it had access: {exposed}." if exposed else " Nobody of the organisation saw the incident."),
        reason=reason, exposure=row.exposure,
    )
    signals.affected_customer_withdrawn.send(sender=Case, case=locked, row=row, by=by)
    if row.exposure:
        tasks.add_task(
            case=locked, by=by, mandatory=True,
            title=f"Privacy event: handle exposure of {locked.reference} to {row.organization}"[:200],
        )
    notices.meet_customer_notice_if_done(case=locked, by=by)
    return row


def record_incident_page_view(*, case: Case, user) -> None:
    """Remember the first time a customer user opened the incident page (for exposure reports).

    One indexed read per page view, one insert per user and case; a concurrent first view
    loses the unique-constraint race quietly.
    """
    if not IncidentPageView.objects.filter(case=case, user=user).exists():
        IncidentPageView.objects.bulk_create(
            [IncidentPageView(case=case, user=user, organization_id=user.organization_id)], ignore_conflicts=True
        )


def declare_breach(*, case: Case, by, note: str, expected_version: int | None = None, regimes=(),
                   severity: str | None = None, breach_category: str | None = None, accept_conflicts: bool = True) -> Case:
    """Declare a customer reportable breach: stamp it and start the customer-notice clock.

    ``regimes``: ``ClockDecision.Kind`` values the declaring manager records now, with the same
    note, each starting its regulatory clocks (``cases.services.clocks``).
    ``severity`` and ``breach_category``: details set with the declaration (the page offers to raise
    severity to Critical and to name the category). Details that still disagree with a breach
    (``Case.breach_detail_conflicts``) are refused when ``accept_conflicts`` is false (the page asks
    the declarer first and passes the answer); otherwise the declaration records them.
    """
    try:
        with transaction.atomic():
            locked = lock_for_work(case, by, manage=True, expected_version=expected_version)
            reasons = locked.declare_breach_blockers()
            if not note.strip():
                reasons.append("Write what was found that makes this a breach.")
            changes = _breach_detail_changes(locked, severity=severity, breach_category=breach_category)
            conflicts = locked.breach_detail_conflicts(**{name: change["to"] for name, change in changes.items()})
            if conflicts and not accept_conflicts:
                reasons.extend(conflicts)
            if reasons:
                raise ActionRefused(reasons)
            now = timezone.now()
            for name, change in changes.items():
                setattr(locked, name, change["to"])
            locked.declare_breach(now=now)
            locked.version += 1
            locked.save(update_fields=["breach_declared_at", "classification", *changes, "version", "updated_at"])
            deadline = Deadline.objects.create(
                case=locked,
                kind=Deadline.Kind.CUSTOMER_NOTICE,
                started_at=now,
                due_at=now + timedelta(hours=settings.IRT_NOTIFY_WITHIN_HOURS),
            )
            organizations = [row.organization.name for row in locked.affected_customers.active().breached().select_related("organization")]
            changed = "".join(f" {Case._meta.get_field(name).verbose_name.capitalize()} set to {change['label']}." for name, change in changes.items())
            accepted = "".join(f" Declared although: {conflict}" for conflict in conflicts)
            append_event(
                case=locked, actor=by, kind=TimelineEvent.Kind.BREACH_DECLARED,
                text=f"Breach declared affecting {', '.join(organizations)}.{changed}{accepted} Customer notice due "
                f"{deadline.due_at:%Y-%m-%d %H:%M} UTC. {note.strip()}",
                data={"organizations": organizations, "due_at": deadline.due_at.isoformat(), "note": note.strip(),
                      "changed": {name: {"from": change["from"], "to": change["to"]} for name, change in changes.items()},
                      "conflicts_accepted": [conflict.code for conflict in conflicts]},
            )
            for kind in regimes:
                record_decision_on_locked_case(case=locked, by=by, kind=kind, note=note, decided_at=now)
            signals.breach_declared.send(sender=Case, case=locked, by=by)
            return locked
    except (ActionRefused, NotAllowed) as refusal:
        record_refusal(case=case, actor=by, action="Declare breach", reasons=getattr(refusal, "reasons", [str(refusal)]))
        raise


def _breach_detail_changes(case: Case, *, severity: str | None, breach_category: str | None) -> dict:
    """Return the details a declaration changes, as ``{field: {"from", "to", "label"}}``; refuse values that are no choice."""
    changes = {}
    for name, value, choices in (("severity", severity, Case.Severity), ("breach_category", breach_category, Case.BreachCategory)):
        if not value:
            continue
        if value not in choices.values:
            raise ActionRefused(f"{value!r} is not a {Case._meta.get_field(name).verbose_name}.")
        if value != getattr(case, name):
            changes[name] = {"from": getattr(case, name), "to": value, "label": choices(value).label}
    return changes


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
        case=locked, actor=by, kind=TimelineEvent.Kind.DEADLINE_DELAY_REQUESTED,
        text=f"Delay of the {deadline.get_kind_display().lower()} deadline to {new_due_at:%Y-%m-%d %H:%M} UTC requested: {reason.strip()}",
        data={"deadline": deadline.kind, "new_due_at": new_due_at.isoformat(), "reason": reason.strip()},
    )
    return delay


@transaction.atomic
def approve_deadline_delay(*, delay: DeadlineDelay, by) -> DeadlineDelay:
    locked = lock_for_work(delay.deadline.case, by, manage=True)
    delay = DeadlineDelay.objects.select_for_update().select_related("deadline").get(pk=delay.pk)
    stamp_approval(
        delay, by, already="This delay is already approved.", made_it="Someone other than the requester must approve a delay."
    )
    deadline = delay.deadline
    old_due = deadline.due_at
    deadline.due_at = delay.new_due_at
    deadline.save(update_fields=["due_at"])
    append_event(
        case=locked, actor=by, kind=TimelineEvent.Kind.DEADLINE_DELAY_APPROVED,
        text=f"{deadline.get_kind_display()} deadline moved from {old_due:%Y-%m-%d %H:%M} to "
        f"{deadline.due_at:%Y-%m-%d %H:%M} UTC: {delay.reason}",
        data={"deadline": deadline.kind, "from": old_due.isoformat(), "to": deadline.due_at.isoformat()},
    )
    return delay
