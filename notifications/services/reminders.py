"""Deadline reminders: 24 h, 4 h and 1 h before any clock is due and when it is overdue, to the owner and managers."""

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from cases.models import Case, Deadline
from notifications.models import Notification
from notifications.services import outbox

# Every clock kind (cases.models.clock_rules.RULES) is a Deadline, so each gets these reminders.
STAGES = (("overdue", None), ("1h", timedelta(hours=1)), ("4h", timedelta(hours=4)), ("24h", timedelta(hours=24)))


def stage_for(deadline: Deadline, now) -> str | None:
    """Return the most urgent reminder stage the deadline is in, or None when it is far away."""
    if now > deadline.due_at:
        return "overdue"
    for name, before in STAGES[1:]:
        if now >= deadline.due_at - before:
            return name
    return None


def _text(deadline: Deadline, stage: str, now) -> str:
    what = f"{deadline.get_kind_display()} deadline of {deadline.case.reference}"
    if stage == "overdue":
        return f"Overdue: {what} passed at {deadline.due_at:%Y-%m-%d %H:%M} UTC"
    hours = max(0, int((deadline.due_at - now).total_seconds() // 3600))
    return f"{what} is due in {hours} h ({deadline.due_at:%Y-%m-%d %H:%M} UTC)"


def remind_deadlines(*, now=None) -> int:
    """Write one reminder per deadline, stage and due time; return how many were written."""
    now = now or timezone.now()
    deadlines = list(
        Deadline.objects.filter(met_at__isnull=True, due_at__lte=now + timedelta(hours=24), case__in=Case.objects.open())
        .select_related("case", "case__owner")
    )
    keyed = {}
    for deadline in deadlines:
        stage = stage_for(deadline, now)
        if stage:
            # The due time is part of the key, so an approved delay arms the reminders again.
            keyed[f"deadline:{deadline.pk}:{stage}:{int(deadline.due_at.timestamp())}"] = (deadline, stage)
    existing = set(Notification.objects.filter(dedupe_key__in=list(keyed)).values_list("dedupe_key", flat=True))
    managers = list(outbox.users_with_permission("manage_case")) if len(existing) < len(keyed) else []
    written = 0
    for key, (deadline, stage) in keyed.items():
        if key in existing:
            continue
        try:
            with transaction.atomic():
                created = outbox.notify_staff(
                    kind=Notification.Kind.DEADLINE_REMINDER, users=[deadline.case.owner, *managers],
                    title=_text(deadline, stage, now), case=deadline.case, dedupe_key=key,
                    body=f"Case: {deadline.case.title}",
                )
        except IntegrityError:
            continue  # another sweeper wrote it first
        written += created is not None
    return written
