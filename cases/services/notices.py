"""Breach notices: a delivered notice or an approved out-of-band notice meets an organisation's.

The customer-notice deadline is met, and the close guard passes, only when every confirmed,
not-withdrawn breach row is met this way. A note or a free-text "notice sent" never is.
"""

from django.db import transaction
from django.utils import timezone

from cases.models.exceptions import ActionRefused
from cases.models import AffectedCustomer, Case, Deadline, OutOfBandNotice, TimelineEvent
from cases.models.approval import ensure_second_person
from cases.models.dashboard_data import forget_queue_data
from cases.services.approval import ensure_may_approve
from cases.services.timeline import append_event, append_events, lock_case, lock_for_work


def _refuse_before_declaration(case: Case) -> None:
    if not case.breach_declared_at:
        raise ActionRefused("No breach is declared on this case, so there is no breach notice to record.")


def append_row_event(*, case: Case, by, row: AffectedCustomer, kind: str, text: str, **data) -> None:
    """Append an event about an affected organisation's row to the locked ``case``.

    Its data always names the organisation (``organization``: the slug), then ``data``, so the
    timeline of one customer can be read back whatever the event.
    """
    append_event(case=case, actor=by, kind=kind, text=text, data={"organization": row.organization.slug, **data})


def _stamp_notified(*, case: Case, row: AffectedCustomer, by, at, via: str, how: str) -> None:
    row.notified_at, row.notified_via = at, via
    row.save(update_fields=["notified_at", "notified_via"])
    append_row_event(
        case=case, by=by, row=row, kind=TimelineEvent.Kind.CUSTOMER_NOTIFIED, text=f"{row.organization} notified ({how}).",
        how=how, via=via,
    )


def meet_customer_notice_if_done(*, case: Case, by) -> Deadline | None:
    """Meet the customer-notice deadline once every confirmed breach row has its notice.

    Breach rows still awaiting confirmation hold the deadline open too: they must be confirmed
    (and then notified) or withdrawn. ``case`` must be locked by the caller.
    """
    deadline = case.deadlines.filter(kind=Deadline.Kind.CUSTOMER_NOTICE, met_at__isnull=True).first()
    if deadline is None:
        return None
    rows = case.affected_customers
    # A few queries, not a walk over every row: a large breach notifies thousands of organisations.
    if rows.awaiting_notice().exists() or rows.awaiting_confirmation().breached().exists():
        return None
    met = rows.confirmed().breached().order_by("-notified_at").select_related("organization")
    latest = met.first()
    if latest is None:
        return None
    out_of_band = [row.organization.name for row in met.filter(notified_via=AffectedCustomer.NotifiedVia.OUT_OF_BAND)]
    deadline.met_at = latest.notified_at
    deadline.met_out_of_band = bool(out_of_band)
    deadline.save(update_fields=["met_at", "met_out_of_band"])
    late = deadline.met_at > deadline.due_at
    append_event(
        case=case,
        actor=by,
        kind=TimelineEvent.Kind.DEADLINE_MET,
        text=f"{deadline.get_kind_display()} deadline met{' late' if late else ''}: every affected customer notified"
        + (f"; met by out-of-band notice for {', '.join(out_of_band)}." if out_of_band else "."),
        data={"deadline": deadline.kind, "late": late, "out_of_band": out_of_band},
    )
    return deadline


@transaction.atomic
def record_customer_notified(*, row: AffectedCustomer, how: str, at=None) -> AffectedCustomer:
    """Stamp the organisation notified by a delivered breach notice; meet the deadline when all are.

    Only ``notifications`` calls this, when a breach notice delivery succeeds; no person can.
    A row that no longer awaits its notice (withdrawn, unconfirmed, already met) is left alone.
    """
    record_customers_notified(case=row.case, notices={row.organization_id: how}, at=at)
    return AffectedCustomer.objects.select_related("organization").get(pk=row.pk)


@transaction.atomic
def record_customers_notified(*, case: Case, notices: dict, at=None) -> list[AffectedCustomer]:
    """Stamp organisations notified by delivered breach notices (``{organization id: how}``); return the rows stamped.

    The case lock orders the timeline chain and makes the last stamp see every other one, so
    exactly one call meets the deadline. It is taken once per call: ``notifications`` passes a
    whole batch of deliveries, last in its transaction, so workers do not queue on it per organisation.
    """
    locked = lock_case(case)
    if not locked.breach_declared_at:
        return []
    at = at or timezone.now()
    rows = list(locked.affected_customers.awaiting_notice().filter(organization__in=notices).select_related("organization")
                .select_for_update(of=("self",)).order_by("pk"))
    if not rows:
        return []
    via = AffectedCustomer.NotifiedVia.DELIVERY
    AffectedCustomer.objects.filter(pk__in=[row.pk for row in rows]).update(notified_at=at, notified_via=via)
    forget_queue_data()  # a late notice leaves the dashboard
    entries = []
    for row in rows:
        row.notified_at, row.notified_via = at, via
        how = notices[row.organization_id]
        entries.append((None, TimelineEvent.Kind.CUSTOMER_NOTIFIED, f"{row.organization} notified ({how}).",
                        {"organization": row.organization.slug, "how": how, "via": via}))
    append_events(case=locked, entries=entries)
    meet_customer_notice_if_done(case=locked, by=None)
    return rows


@transaction.atomic
def record_out_of_band_notice(
    *, row: AffectedCustomer, by, channel: str, person_reached: str, reached_at, evidence_reference: str
) -> OutOfBandNotice:
    """Record a breach notice given outside IRT. It meets nothing until someone else approves it."""
    locked = lock_for_work(row.case, by, manage=True)
    _refuse_before_declaration(locked)
    row = AffectedCustomer.objects.select_for_update().select_related("organization").get(pk=row.pk, case=locked)
    reasons = []
    if not row.awaits_notice:
        reasons.append(f"{row.organization} does not await a breach notice (withdrawn, unconfirmed, no data impact or already notified).")
    if channel not in OutOfBandNotice.Channel.values:
        reasons.append("Choose how they were reached: phone, letter, email from another system or ticket.")
    if not person_reached.strip():
        reasons.append("Name the person reached at the organisation.")
    if not evidence_reference.strip():
        reasons.append("Give the evidence reference (call log, tracking number, ticket, message id).")
    if reached_at is None or reached_at > timezone.now():
        reasons.append("The time they were reached cannot be in the future.")
    # The form takes minutes: a call in the minute of the declaration counts.
    elif reached_at < locked.breach_declared_at.replace(second=0, microsecond=0):
        reasons.append("A breach notice is given after the breach is declared; check the time reached.")
    if reasons:
        raise ActionRefused(reasons)
    notice = OutOfBandNotice.objects.create(
        row=row, channel=channel, person_reached=person_reached.strip(), reached_at=reached_at,
        evidence_reference=evidence_reference.strip(), recorded_by=by,
    )
    append_row_event(
        case=locked, by=by, row=row, kind=TimelineEvent.Kind.NOTICE_RECORDED,
        text=f"Out-of-band notice to {row.organization} recorded: {notice.get_channel_display().lower()} reaching "
        f"{notice.person_reached} at {reached_at:%Y-%m-%d %H:%M} UTC (evidence: {notice.evidence_reference}). "
        "Awaiting approval by a second person.",
        notice=notice.pk, channel=channel,
    )
    return notice


@transaction.atomic
def approve_out_of_band_notice(*, notice: OutOfBandNotice, by) -> OutOfBandNotice:
    """Approve an out-of-band notice: the organisation counts as notified at the time it was reached."""
    locked = lock_case(notice.row.case)
    ensure_may_approve(locked, by, "Only an incident manager or a communications reviewer can approve an out-of-band notice.")
    _refuse_before_declaration(locked)
    notice = OutOfBandNotice.objects.select_for_update().get(pk=notice.pk)
    row = AffectedCustomer.objects.select_for_update().select_related("organization").get(pk=notice.row_id)
    if notice.is_approved:
        raise ActionRefused("This out-of-band notice is already approved.")
    ensure_second_person(notice, by, "You recorded this out-of-band notice; someone else must approve it.")
    if not row.awaits_notice:
        raise ActionRefused(f"{row.organization} does not await a breach notice any more.")
    notice.approved_by, notice.approved_at = by, timezone.now()
    notice.save(update_fields=["approved_by", "approved_at"])
    append_row_event(
        case=locked, by=by, row=row, kind=TimelineEvent.Kind.NOTICE_APPROVED,
        text=f"Out-of-band notice to {row.organization} approved ({notice.get_channel_display().lower()}, "
        f"recorded by {notice.recorded_by.get_username()}).",
        notice=notice.pk,
    )
    _stamp_notified(
        case=locked, row=row, by=by, at=notice.reached_at, via=AffectedCustomer.NotifiedVia.OUT_OF_BAND,
        how=f"out-of-band notice by {notice.get_channel_display().lower()} to {notice.person_reached}",
    )
    meet_customer_notice_if_done(case=locked, by=by)
    return notice
