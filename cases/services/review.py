"""The internal post-incident review and its four-eyes approval."""

from django.db import transaction

from cases.models.exceptions import ActionRefused
from cases.models import Case, PostIncidentReview, TimelineEvent
from cases.services.approval import ensure_may_approve, stamp_approval
from cases.services.timeline import append_event, lock_case, lock_for_work


@transaction.atomic
def save_review(*, case: Case, by, what_happened: str, what_went_wrong: str, how_we_responded: str = "") -> PostIncidentReview:
    locked = lock_for_work(case, by)
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
    ensure_may_approve(locked, by, "Only an incident manager or a communications reviewer can approve a review.")
    review = PostIncidentReview.objects.select_for_update().filter(case=locked).first()
    if review is None:
        raise ActionRefused("There is no review to approve yet.")
    stamp_approval(
        review, by, already="The review is already approved.", made_it="You wrote this review; someone else must approve it."
    )
    append_event(case=locked, actor=by, kind=TimelineEvent.Kind.REVIEW_APPROVED, text="Post-incident review approved.")
    return review
