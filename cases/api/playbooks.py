"""Playbooks over the API: the case's playbook and steps (read), applying one and skipping a step (write).

Same services as the case page: ``cases.services.playbooks``.
"""

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from cases.api.base import CharField, READ_CASES, ReadOnlyModelSerializer, case_for, row_for, submit, valid_body
from cases.models import PlaybookStep, PlaybookVersion, Task
from cases.services import playbooks


class StepSerializer(ReadOnlyModelSerializer):
    class Meta:
        model = PlaybookStep
        fields = ["id", "stage", "order", "title", "guidance", "mandatory", "expected_role", "due_offset", "nist_function"]


class StepTaskSerializer(ReadOnlyModelSerializer):
    step = StepSerializer(read_only=True)
    done_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    skipped_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = Task
        fields = ["id", "title", "mandatory", "due_at", "done_at", "done_by", "skipped_at", "skipped_by", "skip_reason", "step"]


class CasePlaybookSerializer(serializers.Serializer):
    playbook = CharField(allow_null=True, help_text="The playbook's slug.")
    version = serializers.IntegerField(allow_null=True)
    steps = StepTaskSerializer(many=True, help_text="The case's playbook step tasks, every stage so far.")
    deviations = StepTaskSerializer(many=True, help_text="Skipped steps.")


class ApplySerializer(serializers.Serializer):
    playbook = serializers.SlugField(help_text="Slug of the playbook; its current version is applied.")


class SkipSerializer(serializers.Serializer):
    reason = CharField(max_length=5_000)


def _body(case) -> dict:
    version = PlaybookVersion.objects.select_related("playbook").filter(pk=case.playbook_version_id).first()
    step_tasks = case.tasks.filter(step__isnull=False).select_related("step", "done_by", "skipped_by").order_by("id")
    return {
        "playbook": version.playbook.slug if version else None,
        "version": version.number if version else None,
        "steps": StepTaskSerializer(step_tasks, many=True).data,
        "deviations": StepTaskSerializer([t for t in step_tasks if t.is_skipped], many=True).data,
    }


class CasePlaybook(APIView):
    required_scopes = READ_CASES

    @extend_schema(responses=CasePlaybookSerializer, operation_id="cases_playbook_read")
    def get(self, request, reference):
        return Response(_body(case_for(request, reference)))

    @extend_schema(request=ApplySerializer, responses=CasePlaybookSerializer, operation_id="cases_playbook_apply")
    def post(self, request, reference):
        """Apply a playbook's current version; open steps of the previous playbook are withdrawn."""
        case = case_for(request, reference, write=True)
        slug = valid_body(ApplySerializer, request)["playbook"]
        version = PlaybookVersion.objects.filter(playbook__slug=slug).order_by("-number").first()
        if version is None:
            raise serializers.ValidationError({"playbook": ["No playbook has this slug."]})
        case = playbooks.apply_playbook(case=case, version=version, by=request.user)
        return Response(_body(case))


class CaseStepSkip(APIView):
    required_scopes = READ_CASES

    @extend_schema(request=SkipSerializer, responses=StepTaskSerializer, operation_id="cases_playbook_step_skip")
    def post(self, request, reference, task_id):
        """Skip a playbook step (incident managers): a recorded deviation."""
        task = submit(request, playbooks.skip_step, SkipSerializer, task=row_for(request, reference, Task, task_id, write=True))
        return Response(StepTaskSerializer(Task.objects.select_related("step", "done_by", "skipped_by").get(pk=task.pk)).data)


urlpatterns = [
    path("cases/<str:reference>/playbook/", CasePlaybook.as_view(), name="case-playbook"),
    path("cases/<str:reference>/playbook/steps/<int:task_id>/skip/", CaseStepSkip.as_view(), name="case-playbook-skip"),
]
