"""Forms for playbooks: keeping them (managers) and using them on a case."""

from django import forms

from cases.forms.fields import ChoicesReadPerForm
from cases.models import Playbook, PlaybookStep, PlaybookVersion, Service
from cases.services.playbooks import current_versions
from irt.forms import ModelChoiceField


class VersionChoiceField(ChoicesReadPerForm, ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.playbook.name} (v{obj.number})"


def current_version_queryset():
    return PlaybookVersion.objects.filter(pk__in=[v.pk for v in current_versions()]).select_related("playbook")


class ApplyPlaybookForm(forms.Form):
    version = VersionChoiceField(current_version_queryset, label="Playbook")


class SkipStepForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=5_000,
                             help_text="Why the step does not apply here; this deviation is listed in the review.")


class PlaybookForm(forms.ModelForm):
    class Meta:
        model = Playbook
        fields = ["name", "slug", "purpose", "auto_apply"]
        widgets = {"purpose": forms.Textarea(attrs={"rows": 3})}


class CriteriaForm(forms.ModelForm):
    affected_service = ModelChoiceField(queryset=Service.objects.all(), required=False, empty_label="Any")

    class Meta:
        model = PlaybookVersion
        fields = list(PlaybookVersion.CRITERIA)


class StepForm(forms.ModelForm):
    class Meta:
        model = PlaybookStep
        fields = ["stage", "order", "title", "guidance", "mandatory", "expected_role", "due_offset", "nist_function"]
        widgets = {"guidance": forms.Textarea(attrs={"rows": 3})}
        help_texts = {"due_offset": "For example 4:00:00 (4 hours) or 1 00:00:00 (1 day). Empty: no due time."}

    def has_changed(self):
        # A blank extra row still submits its select defaults; without a title it is no step at all.
        if not self.initial:
            return bool((self.data.get(self.add_prefix("title")) or "").strip())
        return super().has_changed()


StepFormSet = forms.formset_factory(StepForm, extra=2, can_delete=True, max_num=60, validate_max=True)
