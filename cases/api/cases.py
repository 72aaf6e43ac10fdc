"""Cases over the API: list (the case page's filters), read, open, edit, lifecycle actions by name,
notes, tasks, affected customers and the timeline. Each view: the token's user, the access lookup,
a serializer for shape and types, one service; the services decide every rule.
"""

from django.http import Http404
from django.urls import include, path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from cases.selectors import cases as selectors
from cases.api.base import CharField, READ_CASES, ReadOnlyModelSerializer, case_for, create_on_case, row_for, submit, valid_body
from cases.models import AffectedCustomer, Case, Organization, Service, Task, TimelineEvent, User
from cases.services import breach, lifecycle, tasks, timeline
from cases.services import cases as case_services

# -- serializers --------------------------------------------------------------------------


class UsernameField(serializers.SlugRelatedField):
    """A user named by username; any existing user, the service decides who may own or be assigned."""

    def __init__(self, **kwargs):
        super().__init__(slug_field="username", queryset=User.objects.filter(is_active=True), **kwargs)


def blank_choice(choices):
    """A read-only choice that may be blank (an unset severity): the schema must say so."""
    return serializers.ChoiceField(choices=choices, allow_blank=True, read_only=True)


class CaseSerializer(ReadOnlyModelSerializer):
    severity = blank_choice(Case.Severity.choices)
    classification = blank_choice(Case.Classification.choices)
    scope = blank_choice(Case.Scope.choices)
    dismissal_reason = blank_choice(Case.DismissalReason.choices)
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    affected_services = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    duplicate_of = serializers.SlugRelatedField(slug_field="reference", read_only=True, allow_null=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = [
            "reference", "url", "title", "status", "severity", "source", "classification", "breach_category",
            "scope", "restricted", "internal_summary", "owner", "created_by", "affected_services", "version",
            "detected_at", "assessed_at", "contained_at", "recovered_at", "closed_at", "dismissed_at",
            "breach_declared_at", "dismissal_reason", "duplicate_of", "legal_hold", "created_at", "updated_at",
        ]

    def get_url(self, case) -> str:
        return f"/api/v1/cases/{case.reference}/"


class CaseListSerializer(CaseSerializer):
    class Meta(CaseSerializer.Meta):
        fields = ["reference", "url", "title", "status", "severity", "source", "restricted", "owner", "version",
                  "detected_at", "breach_declared_at", "updated_at"]


class CaseOpenSerializer(serializers.Serializer):
    title = CharField(max_length=200)
    source = serializers.ChoiceField(choices=Case.Source.choices, default=Case.Source.ALERT)
    internal_summary = CharField(required=False, allow_blank=True, default="", max_length=100_000)
    severity = serializers.ChoiceField(choices=Case.Severity.choices, required=False, allow_blank=True, default="")
    detected_at = serializers.DateTimeField(required=False)
    owner = UsernameField(required=False)
    affected_services = serializers.SlugRelatedField(
        slug_field="name", queryset=Service.objects.all(), many=True, required=False, default=list
    )
    restricted = serializers.BooleanField(required=False, default=False)


class CaseUpdateSerializer(serializers.Serializer):
    title = CharField(max_length=200, required=False)
    internal_summary = CharField(required=False, allow_blank=True, max_length=100_000)
    source = serializers.ChoiceField(choices=Case.Source.choices, required=False)
    severity = serializers.ChoiceField(choices=Case.Severity.choices, required=False, allow_blank=True)
    classification = serializers.ChoiceField(choices=Case.Classification.choices, required=False, allow_blank=True)
    breach_category = serializers.ChoiceField(choices=Case.BreachCategory.choices, required=False)
    scope = serializers.ChoiceField(choices=Case.Scope.choices, required=False, allow_blank=True)
    restricted = serializers.BooleanField(required=False)
    affected_services = serializers.SlugRelatedField(
        slug_field="name", queryset=Service.objects.all(), many=True, required=False
    )
    owner = UsernameField(required=False, allow_null=True)
    version = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1,
                                       help_text="The version you read; a stale one is a 409.")


class CaseFilterSerializer(serializers.Serializer):
    """The case list page's filters (``cases.forms.cases.CaseFilterForm``)."""

    stage = serializers.ChoiceField(choices=[("open", "Open"), *Case.Status.choices], required=False, allow_blank=True)
    severity = serializers.ChoiceField(choices=Case.Severity.choices, required=False, allow_blank=True)
    owner = serializers.ChoiceField(choices=[("me", "Me"), ("none", "Nobody")], required=False, allow_blank=True)
    breach = serializers.ChoiceField(choices=[("yes", "Yes"), ("no", "No")], required=False, allow_blank=True)
    q = CharField(required=False, allow_blank=True, max_length=200)


class ActionSerializer(serializers.Serializer):
    note = CharField(required=False, allow_blank=True, default="", max_length=20_000)
    version = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1,
                                       help_text="The version you read; a stale one is a 409.")
    dismissal_reason = serializers.ChoiceField(choices=Case.DismissalReason.choices, required=False, allow_blank=True, default="")
    duplicate_of = CharField(required=False, allow_blank=True, default="", max_length=20,
                                         help_text="Reference of the original, for a duplicate.")
    # declare_breach only: the details to set with the declaration, and the answer to "declare although
    # they disagree with a breach?" (Case.breach_detail_conflicts). Without it a disagreement is a 409.
    severity = serializers.ChoiceField(choices=Case.Severity.choices, required=False,
                                       help_text="declare_breach: the severity to set with the declaration.")
    breach_category = serializers.ChoiceField(choices=Case.BreachCategory.choices, required=False,
                                              help_text="declare_breach: the breach category to set with the declaration.")
    accept_conflicts = serializers.BooleanField(
        required=False, default=False,
        help_text="declare_breach: declare although severity, category or classification disagree with a breach "
                  "(they are recorded on the timeline); without it such a declaration is a 409 naming them.")


class ActionStateSerializer(serializers.Serializer):
    name = CharField(source="action.name")
    label = CharField(source="action.label")
    allowed = serializers.BooleanField()
    reasons = serializers.ListField(child=CharField())
    asks_for = serializers.ListField(child=CharField(), source="action.asks_for")


class NoteSerializer(serializers.Serializer):
    text = CharField(max_length=20_000)


class TimelineEventSerializer(ReadOnlyModelSerializer):
    actor = CharField(source="actor_name", read_only=True)

    class Meta:
        model = TimelineEvent
        fields = ["sequence", "at", "actor", "kind", "text", "data", "hash"]


class TaskSerializer(ReadOnlyModelSerializer):
    assignee = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    done_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = Task
        fields = ["id", "title", "assignee", "due_at", "mandatory", "done_at", "done_by", "created_at"]


class TaskCreateSerializer(serializers.Serializer):
    title = CharField(max_length=200)
    assignee = UsernameField(required=False)
    due_at = serializers.DateTimeField(required=False)
    mandatory = serializers.BooleanField(required=False, default=False)


class TaskUpdateSerializer(serializers.Serializer):
    done = serializers.BooleanField()


class AffectedCustomerSerializer(ReadOnlyModelSerializer):
    organization = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    added_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    confirmed_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    breach = serializers.SerializerMethodField()
    notified_via = blank_choice(AffectedCustomer.NotifiedVia.choices)

    class Meta:
        model = AffectedCustomer
        fields = ["id", "organization", "data_lost", "data_altered", "data_disclosed", "breach", "impact_statement",
                  "pending_impact_statement", "added_by", "added_at", "confirmed_by", "confirmed_at",
                  "notified_at", "notified_via", "withdrawn_at", "withdrawal_reason"]

    def get_breach(self, row) -> bool:
        return bool(row.data_lost or row.data_altered or row.data_disclosed)


class AffectedCustomerCreateSerializer(serializers.Serializer):
    organization = serializers.SlugRelatedField(slug_field="slug", queryset=Organization.objects.all())
    data_lost = serializers.BooleanField(required=False, default=False)
    data_altered = serializers.BooleanField(required=False, default=False)
    data_disclosed = serializers.BooleanField(required=False, default=False)
    impact_statement = CharField(required=False, allow_blank=True, default="", max_length=20_000)


class AffectedCustomerChangeSerializer(serializers.Serializer):
    data_lost = serializers.BooleanField()
    data_altered = serializers.BooleanField()
    data_disclosed = serializers.BooleanField()
    impact_statement = CharField(allow_blank=True, max_length=20_000)


class ReasonSerializer(serializers.Serializer):
    reason = CharField(max_length=5_000)


def _detail(case: Case) -> Case:
    return Case.objects.select_related("owner", "created_by", "duplicate_of").prefetch_related("affected_services").get(pk=case.pk)


def _case_response(case: Case, status_code: int = status.HTTP_200_OK) -> Response:
    return Response(CaseSerializer(_detail(case)).data, status=status_code)


# -- views ----------------------------------------------------------------------------------


class CaseList(generics.GenericAPIView):
    required_scopes = READ_CASES
    serializer_class = CaseListSerializer

    @extend_schema(parameters=[CaseFilterSerializer], responses=CaseListSerializer(many=True), operation_id="cases_list")
    def get(self, request):
        filters = CaseFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        queryset = selectors.case_list(request.user, filters=filters.validated_data)
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(CaseListSerializer(page, many=True).data)

    @extend_schema(request=CaseOpenSerializer, responses={201: CaseSerializer}, operation_id="cases_create")
    def post(self, request):
        data = valid_body(CaseOpenSerializer, request)
        case = case_services.open_case(
            by=request.user,
            title=data["title"],
            source=data["source"],
            internal_summary=data["internal_summary"],
            severity=data["severity"],
            detected_at=data.get("detected_at"),
            owner=data.get("owner"),
            services=data["affected_services"],
            restricted=data["restricted"],
        )
        response = _case_response(case, status.HTTP_201_CREATED)
        response["Location"] = f"/api/v1/cases/{case.reference}/"
        return response


class CaseDetail(APIView):
    required_scopes = READ_CASES

    @extend_schema(responses=CaseSerializer, operation_id="cases_read")
    def get(self, request, reference):
        return _case_response(case_for(request, reference))

    @extend_schema(request=CaseUpdateSerializer, responses=CaseSerializer, operation_id="cases_update")
    def patch(self, request, reference):
        case = case_for(request, reference, write=True)
        data = valid_body(CaseUpdateSerializer, request)
        version = data.pop("version", None)
        services = data.pop("affected_services", None)
        owner_given = "owner" in data
        owner = data.pop("owner", None)
        if data or services is not None:
            case = case_services.update_case_details(
                case=case, by=request.user, changes=data, services=services, expected_version=version
            )
            version = None if version is None else case.version
        if owner_given:
            case = case_services.assign_owner(case=case, by=request.user, owner=owner, expected_version=version)
        return _case_response(case)


class CaseActions(APIView):
    required_scopes = READ_CASES

    @extend_schema(responses=ActionStateSerializer(many=True), operation_id="cases_actions_list")
    def get(self, request, reference):
        """List the lifecycle actions of the case's stage, each allowed or with its blocker reasons."""
        case = case_for(request, reference)
        return Response(ActionStateSerializer(lifecycle.available_actions(case, request.user), many=True).data)


class CaseAction(APIView):
    required_scopes = READ_CASES

    @extend_schema(
        request=ActionSerializer,
        responses=CaseSerializer,
        parameters=[OpenApiParameter("action", str, OpenApiParameter.PATH, enum=list(lifecycle.ACTIONS) + ["declare_breach"])],
        operation_id="cases_action_run",
    )
    def post(self, request, reference, action):
        """Run a lifecycle action by name (``start_assessment`` … ``dismiss``, ``declare_breach``); blockers are a 409."""
        case = case_for(request, reference)
        data = valid_body(ActionSerializer, request)
        if action == "declare_breach":
            case = breach.declare_breach(
                case=case, by=request.user, note=data["note"], expected_version=data.get("version"),
                severity=data.get("severity"), breach_category=data.get("breach_category"),
                accept_conflicts=data["accept_conflicts"],
            )
            return _case_response(case)
        if action not in lifecycle.ACTIONS:
            raise Http404("There is no such action.")
        extra = {}
        if action == "dismiss":
            duplicate_of = None
            if data["duplicate_of"]:
                duplicate_of = case_for(request, data["duplicate_of"])
            extra = {"reason": data["dismissal_reason"], "duplicate_of": duplicate_of}
        case = lifecycle.run_action(
            action_name=action, case=case, by=request.user, note=data["note"], expected_version=data.get("version"), **extra
        )
        return _case_response(case)


class CaseTimeline(generics.GenericAPIView):
    required_scopes = READ_CASES
    serializer_class = TimelineEventSerializer

    @extend_schema(responses=TimelineEventSerializer(many=True), operation_id="cases_timeline_list")
    def get(self, request, reference):
        """The case's timeline, oldest first (the hash chain's order)."""
        case = case_for(request, reference)
        page = self.paginate_queryset(case.timeline.order_by("sequence"))
        return self.get_paginated_response(TimelineEventSerializer(page, many=True).data)


class CaseNotes(APIView):
    required_scopes = READ_CASES

    @extend_schema(request=NoteSerializer, responses={201: TimelineEventSerializer}, operation_id="cases_notes_create")
    def post(self, request, reference):
        return create_on_case(request, reference, timeline.add_note, body=NoteSerializer, answer=TimelineEventSerializer)


class CaseTasks(APIView):
    required_scopes = READ_CASES

    @extend_schema(responses=TaskSerializer(many=True), operation_id="cases_tasks_list")
    def get(self, request, reference):
        case = case_for(request, reference)
        return Response(TaskSerializer(case.tasks.select_related("assignee", "done_by"), many=True).data)

    @extend_schema(request=TaskCreateSerializer, responses={201: TaskSerializer}, operation_id="cases_tasks_create")
    def post(self, request, reference):
        return create_on_case(request, reference, tasks.add_task, body=TaskCreateSerializer, answer=TaskSerializer)


class CaseTask(APIView):
    required_scopes = READ_CASES

    @extend_schema(request=TaskUpdateSerializer, responses=TaskSerializer, operation_id="cases_tasks_update")
    def patch(self, request, reference, task_id):
        """Mark the task done (``{"done": true}``) or open again (``false``)."""
        task = row_for(request, reference, Task, task_id, write=True)
        done = valid_body(TaskUpdateSerializer, request)["done"]
        if done != task.is_done:
            task = (tasks.complete_task if done else tasks.reopen_task)(task=task, by=request.user)
        return Response(TaskSerializer(Task.objects.select_related("assignee", "done_by").get(pk=task.pk)).data)


def _rows(case):
    """Return the case's affected-customer rows with what ``AffectedCustomerSerializer`` follows (``case`` or its id)."""
    rows = AffectedCustomer.objects.filter(case=case)
    return rows.select_related("organization", "added_by", "confirmed_by").order_by("added_at", "pk")


def _customer(row) -> AffectedCustomerSerializer:
    """Show the row as it now is, read again with what the serializer follows."""
    return AffectedCustomerSerializer(_rows(row.case_id).get(pk=row.pk))


def _change_customer(request, reference, row_id, service, *, body=None, write: bool = True) -> Response:
    """Run one service on an affected-customer row of the case and answer with the row as it now is."""
    row = row_for(request, reference, AffectedCustomer, row_id, write=write)
    submit(request, service, body, row=row)
    return Response(_customer(row).data)


class CaseCustomers(APIView):
    required_scopes = READ_CASES

    @extend_schema(responses=AffectedCustomerSerializer(many=True), operation_id="cases_customers_list")
    def get(self, request, reference):
        case = case_for(request, reference)
        return Response(AffectedCustomerSerializer(_rows(case), many=True).data)

    @extend_schema(request=AffectedCustomerCreateSerializer, responses={201: AffectedCustomerSerializer},
                   operation_id="cases_customers_create")
    def post(self, request, reference):
        """Record an affected organisation; it sees nothing until a second person confirms it."""
        return create_on_case(request, reference, breach.add_affected_customer, body=AffectedCustomerCreateSerializer,
                              answer=_customer)


class CaseCustomer(APIView):
    required_scopes = READ_CASES

    @extend_schema(request=AffectedCustomerChangeSerializer, responses=AffectedCustomerSerializer,
                   operation_id="cases_customers_update")
    def patch(self, request, reference, row_id):
        return _change_customer(request, reference, row_id, breach.edit_affected_customer, body=AffectedCustomerChangeSerializer)


class CaseCustomerConfirm(APIView):
    required_scopes = READ_CASES

    @extend_schema(request=None, responses=AffectedCustomerSerializer, operation_id="cases_customers_confirm")
    def post(self, request, reference, row_id):
        """Confirm the row as the second person; the organisation then reads the incident page."""
        return _change_customer(request, reference, row_id, breach.confirm_affected_customer, write=False)


class CaseCustomerWithdraw(APIView):
    required_scopes = READ_CASES

    @extend_schema(request=ReasonSerializer, responses=AffectedCustomerSerializer, operation_id="cases_customers_withdraw")
    def post(self, request, reference, row_id):
        return _change_customer(request, reference, row_id, breach.withdraw_affected_customer, body=ReasonSerializer)


urlpatterns = [
    path("cases/", CaseList.as_view(), name="case-list"),
    path("cases/<str:reference>/", include([
        path("", CaseDetail.as_view(), name="case-detail"),
        path("actions/", CaseActions.as_view(), name="case-actions"),
        path("actions/<str:action>/", CaseAction.as_view(), name="case-action"),
        path("timeline/", CaseTimeline.as_view(), name="case-timeline"),
        path("notes/", CaseNotes.as_view(), name="case-notes"),
        path("tasks/", CaseTasks.as_view(), name="case-tasks"),
        path("tasks/<int:task_id>/", CaseTask.as_view(), name="case-task"),
        path("customers/", CaseCustomers.as_view(), name="case-customers"),
        path("customers/<int:row_id>/", include([
            path("", CaseCustomer.as_view(), name="case-customer"),
            path("confirm/", CaseCustomerConfirm.as_view(), name="case-customer-confirm"),
            path("withdraw/", CaseCustomerWithdraw.as_view(), name="case-customer-withdraw"),
        ])),
    ])),
]
