"""The case team's answers to customer questions: a written reply, or a pointer to an approved update,
and a second person's approval of the first written reply on a breach (``cases.services.customer_questions``).

The questions themselves are read on the case page (``cases/templatetags/questions.py``).
"""

from django.contrib import messages

from cases.forms.questions import ReplyForm
from cases.models.questions import CustomerQuestion, QuestionReply
from cases.services import customer_questions
from cases.views.helpers import CaseRow, case_action


def _said(request, reply, form) -> None:
    if reply.awaits_approval:
        messages.success(request, f"Reply saved. It is the first written reply to {reply.question.organization.name} on a "
                                  "breach: a second person approves it before they read it.")
    else:
        messages.success(request, f"Reply sent: {reply.question.organization.name} reads it on the incident page.")


reply = case_action(customer_questions.reply_to_question, form=ReplyForm, form_takes_case=True, success="", follow_up=_said,
                    row=CaseRow(CustomerQuestion, "question", url_kwarg="question_id"))
approve_reply = case_action(customer_questions.approve_reply, write=False,
                            success="Reply approved; the customer reads it on the incident page.",
                            row=CaseRow(QuestionReply, "reply", url_kwarg="reply_id", case_path="question__case"))
