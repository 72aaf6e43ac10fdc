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
# sender=Case; kwargs: case, question, by (a customer user asked on the incident page)
customer_question_asked = Signal()
# sender=Case; kwargs: case, evidence, by (a customer user sent a file from the incident page)
customer_file_uploaded = Signal()
# sender=Case; kwargs: case, reply, by (a reply to a customer waits for a second person)
question_reply_drafted = Signal()
# sender=Case; kwargs: case, reply, by (the asking organisation can now read the reply)
question_answered = Signal()
