"""Reads for customer questions and files: the asking organisation's view and the case team's panel.

A customer reads only its own organisation's questions, the replies published to it and the
files it sent; the case team reads every organisation's, drafts included. Each read is a fixed
number of queries whatever the number of questions.
"""

from django.db.models import Prefetch

from cases.access.permissions import can_approve_case_text, can_work_on_case
from cases.models import IncidentUpdate
from cases.models.questions import CustomerQuestion, CustomerUpload, QuestionReply


def portal_questions(*, case, organization) -> dict:
    """Return ``organization``'s questions on ``case`` with their published replies, and the files it sent."""
    questions = list(
        CustomerQuestion.objects.filter(case=case, organization=organization).select_related("asked_by")
        .prefetch_related(Prefetch("replies", to_attr="published_replies",
                                   queryset=QuestionReply.objects.published().select_related("update").order_by("published_at", "id")))
    )
    uploads = list(CustomerUpload.objects.filter(case=case, organization=organization)
                   .select_related("evidence", "uploaded_by").order_by("uploaded_at", "id"))
    return {"questions": questions, "uploads": uploads}


def case_questions_panel(user, case) -> dict:
    """Return every organisation's questions, replies (drafts too) and files on ``case``, and what ``user`` may do."""
    questions = list(
        CustomerQuestion.objects.filter(case=case).select_related("organization", "asked_by")
        .prefetch_related(Prefetch("replies", queryset=QuestionReply.objects.select_related("author", "approved_by", "update")
                                   .order_by("created_at", "id")))
    )
    uploads = list(CustomerUpload.objects.filter(case=case).select_related("evidence", "organization", "uploaded_by")
                   .order_by("uploaded_at", "id"))
    can_reply = can_work_on_case(case, user)
    return {
        "case": case,
        "questions": questions,
        "uploads": uploads,
        "can_reply": can_reply,
        "can_approve": can_approve_case_text(case, user),
        "updates": list(IncidentUpdate.objects.published().filter(case=case).order_by("-published_at", "-id")) if can_reply and questions else [],
        "user": user,
    }
