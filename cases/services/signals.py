"""Signals ``notifications`` listens to. Sent inside the transaction of the change (outbox)."""

from django.dispatch import Signal

# sender=Case; kwargs: case, by (a new case, opened by hand or promoted from alerts)
case_opened = Signal()
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
# sender=Case; kwargs: case, row, by (an organisation may now read the incident)
affected_customer_confirmed = Signal()
# sender=Case; kwargs: case, row, by (the organisation lost access; nothing more goes to it)
affected_customer_withdrawn = Signal()
