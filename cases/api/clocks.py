"""Regulatory clocks over the API: read a case's clocks; record decisions and submissions.

Same services as the case page: ``cases.services.clocks``; the rules are ``cases.models.clock_rules.RULES``.
"""

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from cases.models import clock_rules as rules
from cases.api.base import CharField, READ_CASES, ReadOnlyModelSerializer, case_for, create_on_case, row_for, valid_body
from cases.models import ClockDecision, ClockSubmission, Deadline, Evidence
from cases.services import clocks


class SubmissionSerializer(ReadOnlyModelSerializer):
    recorded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ClockSubmission
        fields = ["id", "recipient", "submitted_at", "content", "reference_number", "evidence", "recorded_by", "recorded_at"]


class ClockSerializer(ReadOnlyModelSerializer):
    regime = serializers.SerializerMethodField()
    recipient = serializers.SerializerMethodField()
    must_contain = serializers.SerializerMethodField()
    decision = serializers.SlugRelatedField(slug_field="kind", read_only=True, allow_null=True)
    submissions = SubmissionSerializer(many=True, read_only=True)

    class Meta:
        model = Deadline
        fields = ["id", "kind", "regime", "started_at", "due_at", "met_at", "decision", "recipient", "must_contain",
                  "close_override_reason", "close_override_at", "submissions"]

    def get_regime(self, clock) -> str:
        return rules.RULES[clock.kind].regime

    def get_recipient(self, clock) -> str:
        return rules.RULES[clock.kind].recipient

    def get_must_contain(self, clock) -> str:
        return rules.RULES[clock.kind].must_contain


class DecisionSerializer(ReadOnlyModelSerializer):
    decided_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ClockDecision
        fields = ["id", "kind", "decided_at", "aware_at", "target_at", "note", "decided_by", "recorded_at"]


class DecisionCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ClockDecision.Kind.choices)
    note = CharField(max_length=10_000)
    decided_at = serializers.DateTimeField(required=False)
    aware_at = serializers.DateTimeField(required=False)
    target_at = serializers.DateTimeField(required=False)


class SubmissionCreateSerializer(serializers.Serializer):
    content = CharField(max_length=50_000)
    recipient = CharField(max_length=300, required=False, allow_blank=True, default="")
    submitted_at = serializers.DateTimeField(required=False)
    reference_number = CharField(max_length=200, required=False, allow_blank=True, default="")
    evidence = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=2**63 - 1,
                                        help_text="Id of an evidence item of this case: the document sent.")


def _clocks(case):
    return sorted(
        Deadline.objects.filter(case=case).select_related("decision").prefetch_related("submissions__recorded_by"),
        key=lambda c: (c.is_met, c.met_at if c.is_met else c.due_at),
    )


class CaseClocks(APIView):
    required_scopes = READ_CASES

    @extend_schema(responses=ClockSerializer(many=True), operation_id="cases_clocks_list")
    def get(self, request, reference):
        """The case's clocks: running ones soonest first, then met ones."""
        return Response(ClockSerializer(_clocks(case_for(request, reference)), many=True).data)


class CaseClockDecisions(APIView):
    required_scopes = READ_CASES

    @extend_schema(responses=DecisionSerializer(many=True), operation_id="cases_clock_decisions_list")
    def get(self, request, reference):
        case = case_for(request, reference)
        return Response(DecisionSerializer(case.clock_decisions.select_related("decided_by"), many=True).data)

    @extend_schema(request=DecisionCreateSerializer, responses={201: DecisionSerializer}, operation_id="cases_clock_decisions_create")
    def post(self, request, reference):
        """Record a decision that starts a regime's clocks (incident managers)."""
        return create_on_case(request, reference, clocks.record_decision, body=DecisionCreateSerializer, answer=DecisionSerializer)


class CaseClockSubmissions(APIView):
    required_scopes = READ_CASES

    @extend_schema(request=SubmissionCreateSerializer, responses={201: SubmissionSerializer},
                   operation_id="cases_clock_submissions_create")
    def post(self, request, reference, deadline_id):
        """Record what was sent to meet the clock; the regime's next stage starts."""
        deadline = row_for(request, reference, Deadline, deadline_id, write=True)
        data = valid_body(SubmissionCreateSerializer, request)
        if data.get("evidence") is not None:
            data["evidence"] = Evidence.objects.filter(case=deadline.case_id, pk=data["evidence"]).first()
            if data["evidence"] is None:
                raise serializers.ValidationError({"evidence": ["No evidence of this case has this id."]})
        submission = clocks.record_submission(deadline=deadline, by=request.user, **data)
        return Response(SubmissionSerializer(submission).data, status=status.HTTP_201_CREATED)


urlpatterns = [
    path("cases/<str:reference>/clocks/", CaseClocks.as_view(), name="case-clocks"),
    path("cases/<str:reference>/clocks/decisions/", CaseClockDecisions.as_view(), name="case-clock-decisions"),
    path("cases/<str:reference>/clocks/<int:deadline_id>/submissions/", CaseClockSubmissions.as_view(),
         name="case-clock-submissions"),
]
