"""Customer-facing text: incident updates, the published review, repair items, acknowledgements.

Four eyes everywhere: whoever wrote a text cannot publish it. Publishing sends a signal inside
the transaction so ``notifications`` can write its outbox rows atomically with the change.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from cases.access.lookups import get_incident_for
from cases.services import signals
from cases.models.exceptions import ActionRefused
from cases.models import Acknowledgement, Case, CustomerStatus, IncidentUpdate, PublishedReview, RepairItem, TimelineEvent
from cases.services.approval import ensure_may_approve, stamp_approval
from cases.services.timeline import append_event, lock_case, lock_for_work, lock_row_for_work

UPDATE_FIELDS = (
    "status", "public_title", "what_happened", "what_we_know", "what_we_are_doing", "what_you_should_do", "affected_services",
    "impact_started_at", "detected_at", "impact_ended_at", "next_update_by",
)
# What a new draft copies from the case when the update before it did not say (``IncidentUpdate`` field: ``Case`` field).
TIMES_FROM_CASE = {"impact_started_at": "impact_started_at", "detected_at": "detected_at", "impact_ended_at": "impact_ended_at"}
REVIEW_FIELDS = (
    "title", "impact_started_at", "impact_ended_at", "who_was_affected", "what_happened", "what_went_wrong",
    "how_we_responded", "how_customers_can_reduce_impact", "audience",
)
Publishable = IncidentUpdate | PublishedReview


def check_impact_window(*, started, ended, now=None) -> None:
    """Refuse an impact window that ends before it starts, ends without a start, or lies in the future.

    The one rule for every impact window: the case's own, an incident update's and the published review's.
    """
    now = now or timezone.now()
    if ended is not None and started is None:
        raise ActionRefused("Say when the impact started before saying when it ended.")
    if started is not None and ended is not None and ended < started:
        raise ActionRefused("The impact cannot end before it started.")
    if any(moment is not None and moment > now for moment in (started, ended)):
        raise ActionRefused("The impact window cannot be in the future: leave the end empty while the impact is ongoing.")


def check_next_update_by(moment, *, now=None) -> None:
    """Refuse a promised next-update time that is not in the future (when drafting and again when approving)."""
    if moment is not None and moment <= (now or timezone.now()):
        raise ActionRefused("The next update time has passed: promise a time in the future (draft a new update to change it).")


def _publish(item: Publishable, *, by, what: str, already: str) -> tuple[Case, Publishable]:
    """Lock the item's case and the item, and publish it as ``by``, its second person; return both locked.

    Publishing is the four-eyes approval stamped with the publication time.
    """
    locked = lock_case(item.case)
    item = type(item).objects.select_for_update().get(pk=item.pk)
    ensure_may_approve(locked, by, f"Only a communications reviewer or an incident manager can approve {what}.")
    stamp_approval(item, by, at="published_at", already=already, made_it=f"You wrote this {what}; someone else must approve it.")
    return locked, item


@transaction.atomic
def draft_update(*, case: Case, by, corrects: IncidentUpdate | None = None, **fields) -> IncidentUpdate:
    locked = lock_for_work(case, by)
    unknown = set(fields) - set(UPDATE_FIELDS)
    if unknown:
        raise ActionRefused(f"Unknown fields: {', '.join(sorted(unknown))}.")
    if not fields.get("public_title", "").strip() or not fields.get("what_happened", "").strip():
        raise ActionRefused("An update needs a title and says what happened.")
    if fields.get("status", CustomerStatus.INVESTIGATING) not in CustomerStatus.values:
        raise ActionRefused("Choose a status customers know: investigating, identified, monitoring or resolved.")
    if corrects is not None and (corrects.case_id != locked.pk or not corrects.is_published):
        raise ActionRefused("A correction must name a published update of this case.")
    check_impact_window(started=fields.get("impact_started_at"), ended=fields.get("impact_ended_at"))
    if fields.get("detected_at") and fields["detected_at"] > timezone.now():
        raise ActionRefused("Detection cannot be in the future.")
    check_next_update_by(fields.get("next_update_by"))
    update = IncidentUpdate.objects.create(case=locked, author=by, corrects=corrects, **{k: v.strip() if isinstance(v, str) else v for k, v in fields.items()})
    append_event(
        case=locked, actor=by, kind=TimelineEvent.Kind.UPDATE_DRAFTED,
        text=f"Customer update drafted{' (correction)' if corrects else ''}: {update.public_title}", data={"update": update.pk},
    )
    return update


@transaction.atomic
def approve_update(*, update: IncidentUpdate, by) -> IncidentUpdate:
    locked, update = _publish(
        update, by=by, what="update", already="This update is already published; publish a correction instead of editing it."
    )
    # Checked after the lock and the four-eyes stamp, so the time compared is the publication time.
    check_next_update_by(update.next_update_by, now=update.published_at)
    append_event(
        case=locked, actor=by, kind=TimelineEvent.Kind.UPDATE_PUBLISHED,
        text=f"Customer update published: {update.public_title} ({update.get_status_display().lower()})", data={"update": update.pk},
    )
    signals.incident_update_published.send(sender=Case, case=locked, update=update, by=by)
    return update


@transaction.atomic
def save_published_review(*, case: Case, by, **fields) -> PublishedReview:
    locked = lock_for_work(case, by)
    unknown = set(fields) - set(REVIEW_FIELDS)
    if unknown:
        raise ActionRefused(f"Unknown fields: {', '.join(sorted(unknown))}.")
    review = PublishedReview.objects.select_for_update().filter(case=locked).first()
    if review and review.is_published:
        raise ActionRefused("The customer review is published and can no longer change.")
    check_impact_window(started=fields.get("impact_started_at"), ended=fields.get("impact_ended_at"))
    if review is None:
        review = PublishedReview(case=locked, author=by, slug=slugify(f"{locked.reference} {fields.get('title', '')}")[:110])
    for name, value in fields.items():
        setattr(review, name, value.strip() if isinstance(value, str) else value)
    review.author = by
    review.save()
    append_event(case=locked, actor=by, kind=TimelineEvent.Kind.PUBLIC_REVIEW_SAVED, text=f"Customer review saved: {review.title}")
    return review


@transaction.atomic
def approve_published_review(*, review: PublishedReview, by) -> PublishedReview:
    locked, review = _publish(review, by=by, what="review", already="This review is already published.")
    append_event(
        case=locked, actor=by, kind=TimelineEvent.Kind.PUBLIC_REVIEW_PUBLISHED,
        text=f"Customer review published ({review.get_audience_display().lower()}): {review.title}",
    )
    signals.review_published.send(sender=Case, case=locked, review=review, by=by)
    return review


@transaction.atomic
def add_repair_item(*, case: Case, by, title: str, estimated_completion=None) -> RepairItem:
    locked = lock_for_work(case, by)
    if not title.strip():
        raise ActionRefused("Say what will be repaired.")
    item = RepairItem.objects.create(case=locked, title=title.strip(), estimated_completion=estimated_completion)
    append_event(case=locked, actor=by, kind=TimelineEvent.Kind.REPAIR_CHANGED, text=f"Repair item added: {item.title}")
    return item


@transaction.atomic
def set_repair_status(*, item: RepairItem, by, status: str) -> RepairItem:
    """Change a repair item's status; allowed after close, because repairs outlive the case."""
    locked, item = lock_row_for_work(item, by)
    if status not in RepairItem.Status.values:
        raise ActionRefused("Choose planned, in progress or done.")
    if item.status == status:
        return item
    previous = item.get_status_display()
    item.status = status
    item.completed_on = timezone.now().date() if status == RepairItem.Status.DONE else None
    item.save(update_fields=["status", "completed_on", "updated_at"])
    append_event(
        case=locked, actor=by, kind=TimelineEvent.Kind.REPAIR_CHANGED,
        text=f"Repair item “{item.title}”: {previous} → {item.get_status_display()}",
    )
    return item


def acknowledge(*, case: Case, user) -> Acknowledgement:
    """Record that a customer user read their organisation's incident page (once per user)."""
    get_incident_for(user, case.reference)
    acknowledgement, _ = Acknowledgement.objects.get_or_create(case=case, user=user)
    return acknowledgement
