"""The four-eyes approval step the approving services share.

Who may approve on a case is one question, asked by every approval and confirmation
(``ensure_may_approve``). Customer updates, both reviews and deadline delays are then approved
with one stamp (``stamp_approval``), so those services differ only in what they lock before and
record after. An out-of-band notice checks its organisation between the refusals and the stamp,
and an affected organisation is confirmed rather than approved, so those two keep their own.
"""

from django.utils import timezone

from cases.access.permissions import can_approve_case_text
from cases.models.approval import ensure_second_person
from cases.models.exceptions import ActionRefused, NotAllowed


def ensure_may_approve(case, by, refusal: str) -> None:
    """Refuse ``by`` (``NotAllowed(refusal)``) unless they see the case and manage it or review communications."""
    if not can_approve_case_text(case, by):
        raise NotAllowed(refusal)


def stamp_approval(item, by, *, already: str, made_it: str, at: str = "approved_at") -> None:
    """Approve ``item`` (a ``FourEyesApproval``, locked by the caller) as ``by`` and save who and when.

    Refuse, in this order, an item whose ``at`` time is already set (``already``) and an item
    ``by`` made (``made_it``): a repeated click hears that it is done, not whose work it is.
    """
    if getattr(item, at) is not None:
        raise ActionRefused(already)
    ensure_second_person(item, by, made_it)
    item.approved_by = by
    setattr(item, at, timezone.now())
    item.save(update_fields=["approved_by", at])
