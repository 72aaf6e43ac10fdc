"""Appending to the hash-chained timeline."""

from django.db import transaction
from django.utils import timezone

from cases.access.permissions import can_manage_case, can_view_case, can_work_on_case
from cases.models.exceptions import ActionRefused, CaseChanged, NotAllowed
from cases.models import Case, TimelineEvent
from cases.models.timeline import genesis_hash


def append_event(*, case: Case, actor, kind: str, text: str, data: dict | None = None) -> TimelineEvent:
    """Append one event. Call inside the transaction that made the change, with the case locked."""
    return append_events(case=case, entries=[(actor, kind, text, data)])[0]


def append_events(*, case: Case, entries) -> list[TimelineEvent]:
    """Append ``(actor, kind, text, data)`` entries in order: one read of the head, one INSERT.

    Call inside the transaction that made the change, with the case locked (the lock orders the chain).
    """
    last = case.timeline.order_by("-sequence").values("sequence", "hash").first()
    sequence, previous = (last["sequence"], last["hash"]) if last else (0, genesis_hash(case.reference))
    now = timezone.now()
    events = []
    for actor, kind, text, data in entries:
        sequence += 1
        event = TimelineEvent(case=case, sequence=sequence, at=now, actor=actor, actor_name=actor.get_username() if actor else "",
                              kind=kind, text=text, data=data or {}, previous_hash=previous)
        event.hash = previous = event.compute_hash()
        events.append(event)
    if len(events) == 1:
        events[0].save(force_insert=True)
    else:
        TimelineEvent.objects.bulk_create(events)
    Case.objects.filter(pk=case.pk).update(timeline_head=previous)
    case.timeline_head = previous
    return events


def lock_case(case: Case) -> Case:
    """Return a fresh copy of the case with its row locked until the transaction ends."""
    return Case.objects.select_for_update().get(pk=case.pk)


def lock_for_work(case: Case, by, *, manage: bool = False, expected_version: int | None = None) -> Case:
    """Lock the case and check that ``by`` may change it (``manage``: close-level rights).

    The check runs on the locked row, so a member removed a moment ago is refused; the
    version check comes after it, so an outsider learns nothing from a stale version.
    """
    locked = lock_case(case)
    allowed = can_manage_case(locked, by) if manage else can_work_on_case(locked, by)
    if not allowed:
        raise NotAllowed(
            "Only an incident manager working on this case can do that." if manage else "You can read this case but not change it."
        )
    if expected_version is not None and locked.version != expected_version:
        raise CaseChanged(locked)
    return locked


def lock_row_for_work(row, by, *, manage: bool = False):
    """Lock the case of ``row`` (checking ``by`` may change it), then ``row`` itself; return both.

    Always the case first, then its row: every service takes the locks in that order, so two
    of them working on the same case never wait on each other in a cycle.
    """
    locked = lock_for_work(row.case, by, manage=manage)
    return locked, type(row).objects.select_for_update().get(pk=row.pk, case=locked)


def record_refusal(*, case: Case, actor, action: str, reasons: list[str]) -> None:
    """Record a refused attempt, after the refused change rolled back, if the actor may see the case."""
    if actor is None:
        return
    with transaction.atomic():
        # Ask the locked row, not the caller's copy: it may predate a change to members or restriction.
        locked = lock_case(case)
        if not can_view_case(actor, locked):
            return
        append_event(
            case=locked,
            actor=actor,
            kind=TimelineEvent.Kind.REFUSED,
            text=f"Refused: {action}. " + " ".join(reasons),
            data={"action": action, "reasons": reasons},
        )


@transaction.atomic
def add_note(*, case: Case, by, text: str) -> TimelineEvent:
    locked = lock_case(case)
    if not can_work_on_case(locked, by):
        raise NotAllowed("You can read this case but not change it.")
    text = text.strip()
    if not text:
        raise ActionRefused("Write something in the note.")
    return append_event(case=locked, actor=by, kind=TimelineEvent.Kind.NOTE, text=text)

