"""Evidence over the API: list, and streamed upload with the browser's SHA-256 and size rules.

The upload is ``multipart/form-data`` with one ``file`` part. The case and the token's rights are
checked before a byte of the body is read; then the body streams through
``EvidenceUploadHandler`` (hashing to a temporary file, within ``IRT_EVIDENCE_MAX_BYTES``), and
``cases.services.evidence.add_evidence`` stores and records it.
"""

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ParseError
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from cases.api.base import CharField, ReadOnlyModelSerializer, case_for
from cases.api.problems import Problem
from cases.forms.evidence import EvidenceUploadForm
from cases.models.exceptions import ActionRefused
from cases.models import ApiToken, Evidence
from cases.services import evidence as evidence_services
from cases.services.timeline import record_refusal
from cases.services.evidence_uploads import EvidenceUploadHandler


class EvidenceSerializer(ReadOnlyModelSerializer):
    id = CharField(source="label", read_only=True)
    uploaded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Evidence
        fields = ["id", "original_name", "size", "sha256", "declared_sha256", "description", "collected_at",
                  "collected_where", "collected_by", "uploaded_by", "uploaded_at", "superseded_at",
                  "superseded_reason", "last_verified_at", "integrity_ok", "purged_at"]


class EvidenceUploadSerializer(serializers.Serializer):
    """For the schema only: the multipart fields (validated by ``EvidenceUploadForm``, as in the browser)."""

    file = serializers.FileField()
    description = CharField()
    collected_at = serializers.DateTimeField(required=False)
    collected_where = CharField(required=False, max_length=300)
    collected_by = CharField(required=False, max_length=200)
    declared_sha256 = CharField(required=False, max_length=80)


class CaseEvidence(APIView):
    required_scopes = {"read": ApiToken.Scope.CASES_READ, "write": ApiToken.Scope.EVIDENCE_WRITE}
    parser_classes = [MultiPartParser]

    @extend_schema(responses=EvidenceSerializer(many=True), operation_id="cases_evidence_list")
    def get(self, request, reference):
        case = case_for(request, reference)
        items = case.evidence.select_related("uploaded_by").order_by("pk")
        return Response(EvidenceSerializer(items, many=True).data)

    @extend_schema(request={"multipart/form-data": EvidenceUploadSerializer}, responses={201: EvidenceSerializer},
                   operation_id="cases_evidence_create")
    def post(self, request, reference):
        """Upload one file; the server's SHA-256 is in the answer. A declared SHA-256 that differs is a 409."""
        # Permission first: nothing of the body is read for a case the user may not change.
        case = case_for(request, reference, write=True)
        handler = EvidenceUploadHandler(request._request)
        request._request.upload_handlers = [handler]
        upload = None
        try:
            try:
                data, files = request.data, request.FILES
            except ParseError:
                if handler.refusal:
                    raise self._too_large(case, request, handler) from None
                raise
            upload = files.get("file")
            if handler.refusal:
                raise self._too_large(case, request, handler)
            form = EvidenceUploadForm(data, files)
            if not form.is_valid():
                raise serializers.ValidationError(
                    {name: [error["message"] for error in errors] for name, errors in form.errors.get_json_data().items()}
                )
            cleaned = form.cleaned_data
            try:
                item = evidence_services.add_evidence(
                    case=case, by=request.user, content=cleaned["file"],
                    original_name=getattr(upload, "original_name", upload.name),
                    description=cleaned["description"], collected_at=cleaned["collected_at"],
                    collected_where=cleaned["collected_where"], collected_by=cleaned["collected_by"],
                    declared_sha256=cleaned["declared_sha256"],
                )
            except ActionRefused as exc:
                record_refusal(case=case, actor=request.user, action="add evidence", reasons=exc.reasons)
                raise
        finally:
            if upload is not None:
                # Removes the temporary file unless the storage already moved it into place.
                upload.close()
        return Response(EvidenceSerializer(item).data, status=status.HTTP_201_CREATED)

    @staticmethod
    def _too_large(case, request, handler) -> Problem:
        record_refusal(case=case, actor=request.user, action="add evidence", reasons=[handler.refusal])
        return Problem(413, handler.refusal, title="Evidence too large", type="too-large", limit=handler.max_bytes)


urlpatterns = [
    path("cases/<str:reference>/evidence/", CaseEvidence.as_view(), name="case-evidence"),
]
