"""The internal post-incident review and its four-eyes approval."""

from django.db import transaction
from django.utils import timezone

from cases.access.permissions import can_approve_communication, can_manage_case, can_view_case, can_work_on_case
from cases.models.exceptions import ActionRefused, NotAllowed
from cases.models import Case, PostIncidentReview, TimelineEvent
from cases.models.approval import ensure_second_person
from cases.services.timeline import append_event, lock_case


@transaction.atomic
def save_review(*, case: Case, by, what_happened: str, what_went_wrong: str, how_we_responded: str = "") -> PostIncidentReview:
    locked = lock_case(case)
    if not can_work_on_case(locked, by):
        raise NotAllowed("You can read this case but not change it.")
    if not what_happened.strip() or not what_went_wrong.strip():
        raise ActionRefused("Say what happened and what went wrong.")
    review = PostIncidentReview.objects.select_for_update().filter(case=locked).first()
    if review and review.is_approved:
        raise ActionRefused("The review is approved and can no longer change.")
    if review is None:
        review = PostIncidentReview(case=locked, author=by)
    review.what_happened = what_happened.strip()
    review.what_went_wrong = what_went_wrong.strip()
    review.how_we_responded = how_we_responded.strip()
    review.author = by
    review.save()
    append_event(case=locked, actor=by, kind=TimelineEvent.Kind.REVIEW_SAVED, text="Post-incident review saved.")
    return review


@transaction.atomic
def approve_review(*, case: Case, by) -> PostIncidentReview:
    locked = lock_case(case)
    if not can_view_case(by, locked) or not (
        can_manage_case(locked, by) or can_approve_communication(by)
    ):
        raise NotAllowed("Only an incident manager or a communications reviewer can approve a review.")
    review = PostIncidentReview.objects.select_for_update().filter(case=locked).first()
    if review is None:
        raise ActionRefused("There is no review to approve yet.")
    if review.is_approved:
        raise ActionRefused("The review is already approved.")
    ensure_second_person(review, by, "You wrote this review; someone else must approve it.")
    review.approved_by = by
    review.approved_at = timezone.now()
    review.save(update_fields=["approved_by", "approved_at"])
    append_event(case=locked, actor=by, kind=TimelineEvent.Kind.REVIEW_APPROVED, text="Post-incident review approved.")
    return review
