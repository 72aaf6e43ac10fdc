"""Forms of customer questions: asking and sending a file (customers), replying (the case team).

Shape only; the bounds and who may do what live in ``cases.services.customer_questions``.
"""

from django import forms

from cases.models import IncidentUpdate
from cases.services.customer_questions import MAX_QUESTION_CHARS, MAX_REPLY_CHARS, allowed_types_text


class QuestionForm(forms.Form):
    text = forms.CharField(
        label="Your question", max_length=MAX_QUESTION_CHARS, widget=forms.Textarea(attrs={"rows": 4}),
        help_text="The incident's response team reads it; only your organisation sees it and our answer.",
    )


class CustomerFileForm(forms.Form):
    file = forms.FileField(
        label="File", allow_empty_file=False,
        help_text=f"Logs or exports we asked for ({allowed_types_text()}). It becomes evidence on the incident.",
    )


class ReplyForm(forms.Form):
    text = forms.CharField(label="Reply", max_length=MAX_REPLY_CHARS, required=False, widget=forms.Textarea(attrs={"rows": 3}))
    update = forms.ModelChoiceField(
        label="Or point at an approved update", queryset=IncidentUpdate.objects.none(), required=False,
        help_text="The customer reads the update you choose as the answer.",
    )

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["update"].queryset = IncidentUpdate.objects.published().filter(case=case)
        self.fields["update"].label_from_instance = lambda update: f"{update.published_at:%Y-%m-%d %H:%M} UTC · {update.public_title}"

    def clean(self):
        data = super().clean()
        if not data.get("text", "").strip() and data.get("update") is None:
            raise forms.ValidationError("Write a reply or choose an approved update that answers the question.")
        return data
