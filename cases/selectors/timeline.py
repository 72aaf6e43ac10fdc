"""Checking a case's timeline hash chain."""

from cases.models import Case, TimelineEvent
from cases.models.timeline import genesis_hash


def first_broken_link(case: Case) -> tuple[str | None, int]:
    """Return a description of the first broken link (or None) and the number of events read."""
    expected_previous = genesis_hash(case.reference)
    count = 0
    for count, event in enumerate(TimelineEvent.objects.filter(case=case).order_by("sequence").iterator(), start=1):
        if event.sequence != count:
            return f"event #{count} is missing (next stored event is #{event.sequence}).", count
        if event.previous_hash != expected_previous:
            return f"event #{event.sequence} does not follow event #{event.sequence - 1} (previous hash differs).", count
        if event.compute_hash() != event.hash:
            return f"event #{event.sequence} was altered (its content no longer matches its hash).", count
        expected_previous = event.hash
    if case.timeline_head and case.timeline_head != (expected_previous if count else ""):
        return "the newest events are missing (the case records a later head than the chain ends with).", count
    return None, count
