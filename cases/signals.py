"""Signals ``notifications`` listens to. Sent inside the transaction of the change (outbox)."""

from django.dispatch import Signal

# sender=Case; kwargs: case, update, by
incident_update_published = Signal()
# sender=Case; kwargs: case, review, by
review_published = Signal()
# sender=Case; kwargs: case, by
breach_declared = Signal()
# sender=Case; kwargs: case, owner, by
case_owner_assigned = Signal()
# sender=Case; kwargs: case, user, by
case_member_added = Signal()
