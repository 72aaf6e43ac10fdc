"""Listeners for case events. They run inside the sender's transaction, so the outbox rows
commit or roll back with the change that caused them."""

from django.contrib.auth import get_user_model
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.urls import reverse

from cases.services import signals
from cases.models import Acknowledgement, Case, IncidentUpdate
from notifications.models import Delivery, Notification
from notifications.services import inbox, on_call, outbox

Kind = Notification.Kind


@receiver(signals.case_opened, dispatch_uid="notifications.case_opened")
def on_case_opened(sender, *, case, by, **kwargs):
    on_call.page_if_unowned(case=case, by=by)


@receiver(signals.breach_declared, dispatch_uid="notifications.breach_declared")
def on_breach_declared(sender, *, case, by, **kwargs):
    # The notice needs customer text: it goes out with the first approved update, in either order.
    update = case.updates.published().order_by("-published_at", "-id").first()
    outbox.notify_breach(case=case, update=update)


@receiver(signals.affected_customer_confirmed, dispatch_uid="notifications.affected_customer_confirmed")
def on_affected_customer_confirmed(sender, *, case, row, by, **kwargs):
    # Confirmed after the declaration: its breach notice goes out now, with the latest approved update.
    if case.breach_declared_at:
        on_breach_declared(sender, case=case, by=by)


@receiver(signals.affected_customer_withdrawn, dispatch_uid="notifications.affected_customer_withdrawn")
def on_affected_customer_withdrawn(sender, *, case, row, by, **kwargs):
    # Nothing more may reach a withdrawn organisation; the cancelled deliveries stay visible as dead.
    Delivery.objects.filter(notification__case=case, organization=row.organization_id, status=Delivery.Status.PENDING).update(
        status=Delivery.Status.DEAD, lease_until=None,
        last_error=f"Cancelled: {row.organization} was withdrawn from the affected customers.",
    )


@receiver(signals.incident_update_published, dispatch_uid="notifications.update_published")
def on_update_published(sender, *, case, update, by, **kwargs):
    outbox.notify_update(case=case, update=update)


@receiver(signals.review_published, dispatch_uid="notifications.review_published")
def on_review_published(sender, *, case, review, by, **kwargs):
    outbox.notify_review(case=case, review=review)


@receiver(signals.case_owner_assigned, dispatch_uid="notifications.owner_assigned")
def on_owner_assigned(sender, *, case, owner, by, **kwargs):
    if owner is not None and owner != by:
        outbox.notify_staff(kind=Kind.CASE_ASSIGNED, users=[owner], case=case,
                            title=f"{by.display_name} assigned {case.reference} to you", body=case.title)


@receiver(signals.case_member_added, dispatch_uid="notifications.member_added")
def on_member_added(sender, *, case, user, by, **kwargs):
    if user != by:
        # The sender cached the member list before adding this user.
        case.__dict__.pop("_member_ids", None)
        outbox.notify_staff(kind=Kind.MEMBER_ADDED, users=[user], case=case,
                            title=f"{by.display_name} added you to {case.reference}", body=case.title)


@receiver(post_save, sender=IncidentUpdate, dispatch_uid="notifications.update_drafted")
def on_update_drafted(sender, *, instance, created, raw=False, **kwargs):
    """Ask the people who may approve a new draft (never its author) to review it."""
    if raw or not created or instance.published_at is not None:
        return
    approvers = outbox.users_with_permission("approve_communication").exclude(pk=instance.author_id)
    outbox.notify_staff(kind=Kind.APPROVAL_REQUESTED, users=approvers, case=instance.case,
                        title=f"Customer update awaiting your approval: {instance.public_title} ({instance.case.reference})",
                        body=f"Drafted by {instance.author.display_name}.")


def _case_team(case):
    """Return the case's owner and members: who a customer's question or file is for."""
    ids = set(case.member_ids()) | ({case.owner_id} if case.owner_id else set())
    return get_user_model().objects.filter(pk__in=ids)


@receiver(signals.customer_question_asked, dispatch_uid="notifications.customer_question_asked")
def on_customer_question_asked(sender, *, case, question, by, **kwargs):
    outbox.notify_staff(kind=Kind.CUSTOMER_QUESTION, users=_case_team(case), case=case,
                        title=f"Question from {question.organization.name} on {case.reference}", body=question.text,
                        link=f"{case.get_absolute_url()}#question-{question.pk}")


@receiver(signals.customer_file_uploaded, dispatch_uid="notifications.customer_file_uploaded")
def on_customer_file_uploaded(sender, *, case, evidence, by, **kwargs):
    outbox.notify_staff(kind=Kind.CUSTOMER_QUESTION, users=_case_team(case), case=case,
                        title=f"File from {by.organization.name} on {case.reference}: {evidence.label} {evidence.display_name}",
                        body=f"{evidence.size:,} bytes, SHA-256 {evidence.sha256}, sent by {by.get_username()}.",
                        link=reverse("evidence:list", args=[case.reference]))


@receiver(signals.question_reply_drafted, dispatch_uid="notifications.question_reply_drafted")
def on_question_reply_drafted(sender, *, case, reply, by, **kwargs):
    """Ask who may approve the reply (never its author) to approve it."""
    approvers = outbox.users_with_permission("approve_communication").exclude(pk=reply.author_id)
    outbox.notify_staff(kind=Kind.CUSTOMER_QUESTION, users=approvers, case=case,
                        title=f"Reply to {reply.question.organization.name} awaiting your approval ({case.reference})",
                        body=f"Drafted by {reply.author.display_name}.", link=f"{case.get_absolute_url()}#question-{reply.question_id}")


@receiver(signals.question_answered, dispatch_uid="notifications.question_answered")
def on_question_answered(sender, *, case, reply, by, **kwargs):
    """Tell the asker, by inbox and email, that their organisation's question has an answer on the incident page."""
    asker = reply.question.asked_by
    if not asker.is_active:
        return
    deliveries = [Delivery(channel=Delivery.Channel.INBOX, organization_id=asker.organization_id, user=asker)]
    address = outbox.clean_address(asker.email)
    if address:
        deliveries.append(Delivery(channel=Delivery.Channel.EMAIL, organization_id=asker.organization_id, user=asker, address=address))
    outbox.create_notification(kind=Kind.QUESTION_ANSWERED, case=case, deliveries=deliveries,
                               title=f"Your question on {case.reference} was answered", link=outbox.incident_path(case))


# What ``selectors.settled()`` reads; a change to it may settle (or, on reopening, unsettle) inbox items.
@receiver(post_save, sender=Case, dispatch_uid="notifications.inbox_case_saved")
def on_case_saved(sender, *, instance, created, update_fields=None, raw=False, **kwargs):
    """A case's status may have finished or reopened it: its items' readers get a fresh count."""
    if not raw and not created and (update_fields is None or "status" in update_fields):
        inbox.forget_unread_counts_of_case(instance.pk)


@receiver([post_save, post_delete], sender=IncidentUpdate, dispatch_uid="notifications.inbox_update_changed")
def on_update_changed(sender, *, instance, raw=False, **kwargs):
    """A draft approved (or gone) may settle the approval requests of its case."""
    if not raw:
        inbox.forget_unread_counts_of_case(instance.case_id)


@receiver(post_save, sender=Acknowledgement, dispatch_uid="notifications.inbox_acknowledged")
def on_acknowledged(sender, *, instance, raw=False, **kwargs):
    """Acknowledging an incident settles the customer's notices about it."""
    if not raw:
        inbox.forget_unread_counts([instance.user_id])
