"""Checking a case's timeline: the keyed hash chain, and the signed checkpoints it must pass through."""

from collections.abc import Mapping

from cases.models import Case, TimelineEvent
from cases.models.timeline import genesis_hash, timeline_key


def first_broken_link(case: Case, *, checkpoints: Mapping[int, str] | None = None) -> tuple[str | None, int]:
    """Return a description of the first broken link (or None) and the number of events read.

    ``checkpoints`` maps an event count to the head hash a signed checkpoint recorded for this case
    at that count (``cases.services.timeline_checkpoints``): the chain must still pass through each,
    which finds a rewrite or a cut tail even when its hashes were recomputed with the right key.
    """
    checkpoints = checkpoints or {}
    key = timeline_key()
    expected_previous = genesis_hash(case.reference)
    count = 0
    for count, event in enumerate(TimelineEvent.objects.filter(case=case).order_by("sequence").iterator(), start=1):
        if event.sequence != count:
            return f"event #{count} is missing (next stored event is #{event.sequence}).", count
        if event.previous_hash != expected_previous:
            return f"event #{event.sequence} does not follow event #{event.sequence - 1} (previous hash differs).", count
        if event.compute_hash(key=key) != event.hash:
            return f"event #{event.sequence} was altered (its content no longer matches its hash).", count
        if checkpoints.get(count, event.hash) != event.hash:
            return f"event #{count} is not the one a signed checkpoint recorded (the chain was rewritten).", count
        expected_previous = event.hash
    if checkpoints and max(checkpoints) > count:
        return f"the chain ends at event #{count} but a signed checkpoint recorded {max(checkpoints)} events.", count
    if case.timeline_head and case.timeline_head != (expected_previous if count else ""):
        return "the newest events are missing (the case records a later head than the chain ends with).", count
    return None, count
