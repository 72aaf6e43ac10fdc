"""The in-app inbox: marking items read, and the unread count its badge shows, kept per user.

Every signed-in page shows the badge, so its count (``selectors.unread_count``) is kept in the
cache and forgotten wherever it can change: items written (``outbox.create_notification``),
items read (here), and whatever ``selectors.settled()`` reads: a case's status, its drafts
awaiting approval, a customer's acknowledgement (``notifications.receivers``).
"""

from django.utils import timezone

from irt.cache import Generations
from notifications.models import Delivery

unread_counts = Generations("inbox-unread")


def forget_unread_counts(user_ids) -> None:
    """Make the kept unread counts of these users stale."""
    unread_counts.forget(set(user_ids))


def forget_unread_counts_of_case(case_id) -> None:
    """Make stale the kept counts of every user with an unread item about the case: the items may have settled."""
    forget_unread_counts(Delivery.objects.filter(
        notification__case=case_id, channel=Delivery.Channel.INBOX, read_at__isnull=True,
    ).values_list("user_id", flat=True).distinct())


def mark_read(*, user, delivery: Delivery) -> None:
    """Mark one of the user's inbox items read."""
    if delivery.read_at is None:
        Delivery.objects.filter(pk=delivery.pk).update(read_at=timezone.now())
        forget_unread_counts([user.pk])


def mark_all_read(*, user) -> int:
    """Mark every unread inbox item of the user read; return how many."""
    count = Delivery.objects.filter(user=user, channel=Delivery.Channel.INBOX, read_at__isnull=True).update(
        read_at=timezone.now())
    forget_unread_counts([user.pk])
    return count
