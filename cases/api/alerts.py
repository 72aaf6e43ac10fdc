"""Alerts over the API: intake (IRT shape, bulk, Sentinel, OCSF, signed webhooks), reading, triage.

Every body is checked by ``cases.services.alert_formats`` (the one definition of a valid alert);
the serializers below describe the shapes for the schema and check query parameters. Intake
answers 201 with the alert id on first receipt and 200 with the same id on a replay.
"""

import io

import standardwebhooks
from django.http import Http404
from django.urls import path
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from cases.access.permissions import is_staff_user
from cases.selectors import alerts as selectors_alerts
from cases.api.base import CharField, ReadOnlyModelSerializer, case_for, submit, valid_body
from cases.api.parsers import StrictJSONParser
from cases.api.problems import Problem
from cases.models import Alert, AlertGroup, AlertSource, ApiToken, Case, Observable
from cases.services import intake, triage
from cases.services.alert_formats import AlertRejected, from_ocsf, from_sentinel

INTAKE = {"write": ApiToken.Scope.ALERTS_WRITE}
READ = {"read": ApiToken.Scope.ALERTS_READ}
# Triage changes cases, so it needs the case-writing scope on top of the user's own rights.
TRIAGE = {"write": ApiToken.Scope.CASES_WRITE}
BULK_BODY_BYTES = 16 * 1024 * 1024
# Documented on every intake operation: schema-valid JSON may still be no storable alert.
REFUSED = OpenApiResponse(description="The alert was refused (see errors): a field fails the alert rules, or text "
                                      "holds NUL or unpaired surrogates (control characters are not allowed).")


def _rejected(exc: AlertRejected):
    """Answer 422: the body parsed (malformed JSON is the parser's 400) but is not an alert IRT stores."""
    return Problem(422, "The alert was refused; see errors.", title="Invalid alert", type="invalid-alert", errors=exc.errors)


# -- serializers (shapes for the schema; validation is the service's) -----------------------


class ObservableInSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Observable.Kind.choices)
    value = CharField(max_length=2048)


@extend_schema_field({"oneOf": [
    {"type": "string", "minLength": 1, "maxLength": 1000},
    {"type": "object", "required": ["id"], "additionalProperties": False,
     "properties": {"id": {"type": "string", "minLength": 1, "maxLength": 1000}, "tenant_id": {"type": "string", "maxLength": 200}}},
]})
class ResourceField(serializers.JSONField):
    """A resource id, or ``{"id", "tenant_id"}`` when the sender knows the tenant."""


class AlertCreateSerializer(serializers.Serializer):
    source = serializers.ChoiceField(choices=Alert.Source.choices)
    source_ref = CharField(max_length=200, help_text="The detection's own id; a replay of it is idempotent.")
    title = CharField(max_length=300)
    severity = serializers.ChoiceField(choices=Case.Severity.choices)
    description = CharField(required=False, allow_blank=True)
    observed_at = serializers.DateTimeField(help_text="ISO 8601 with a UTC offset.")
    correlation_key = CharField(required=False, allow_blank=True, max_length=200)
    observables = ObservableInSerializer(many=True, required=False)
    resources = serializers.ListField(child=ResourceField(), required=False, max_length=100,
                                      help_text="Cloud resource ids, or objects {\"id\", \"tenant_id\"}.")
    raw = serializers.JSONField(required=False, help_text="The original payload, kept verbatim up to a size limit.")


class AlertBulkSerializer(serializers.Serializer):
    alerts = AlertCreateSerializer(many=True, max_length=intake.MAX_BULK)


class AlertIdSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    group = serializers.IntegerField()
    created = serializers.BooleanField()


class AlertBulkResultSerializer(serializers.Serializer):
    results = AlertIdSerializer(many=True)


class ObservableSerializer(ReadOnlyModelSerializer):
    class Meta:
        model = Observable
        fields = ["id", "kind", "value", "first_seen_at"]


class AlertSerializer(ReadOnlyModelSerializer):
    observables = ObservableSerializer(many=True, read_only=True)
    resources = serializers.SlugRelatedField(slug_field="resource_id", many=True, read_only=True)

    class Meta:
        model = Alert
        fields = ["id", "source", "source_ref", "title", "severity", "description", "observed_at", "received_at",
                  "last_seen_at", "seen_count", "correlation_key", "group", "observables", "resources", "raw", "raw_size"]


class AlertGroupSerializer(ReadOnlyModelSerializer):
    case = serializers.SlugRelatedField(slug_field="reference", read_only=True, allow_null=True)
    handled_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = AlertGroup
        fields = ["id", "title", "status", "severity", "correlation_key", "first_seen_at", "last_seen_at", "alert_count",
                  "case", "handled_by", "handled_at", "dismissal_reason", "dismissal_note"]


class AlertFilterSerializer(serializers.Serializer):
    source = serializers.ChoiceField(choices=Alert.Source.choices, required=False)
    severity = serializers.ChoiceField(choices=Case.Severity.choices, required=False)
    group = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)
    received_after = serializers.DateTimeField(required=False)


class GroupFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=AlertGroup.Status.choices, required=False)


class PromoteSerializer(serializers.Serializer):
    title = CharField(max_length=200, required=False, allow_blank=True, default="")
    restricted = serializers.BooleanField(required=False, default=False)


class AttachSerializer(serializers.Serializer):
    case = CharField(max_length=20, help_text="Reference of an open case you work on.")


class DismissSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=AlertGroup.DismissalReason.choices)
    note = CharField(max_length=5000)


class CaseRefSerializer(serializers.Serializer):
    reference = CharField()


class ObservableSightingsSerializer(ObservableSerializer):
    cases = serializers.SerializerMethodField()

    class Meta(ObservableSerializer.Meta):
        fields = [*ObservableSerializer.Meta.fields, "cases"]

    def get_cases(self, observable) -> list[str]:
        return [case.reference for case in self.context["cases"]]


def _ingest(payload, by, mapper=None) -> Response:
    """Store one alert: 201 with its id on first receipt, 200 with the same id on a replay, 422 if it is no alert.

    ``mapper`` turns a vendor's shape into the IRT one; it refuses a body that is none with the same 422.
    """
    try:
        alert, created = intake.ingest_alert(payload=mapper(payload) if mapper else payload, by=by)
    except AlertRejected as exc:
        raise _rejected(exc) from None
    return Response({"id": alert.pk, "group": alert.group_id, "created": created},
                    status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


# -- intake --------------------------------------------------------------------------------


class AlertList(generics.GenericAPIView):
    required_scopes = {**INTAKE, **READ}
    serializer_class = AlertSerializer

    def get_queryset(self):
        visible = selectors_alerts.visible_groups(self.request.user)
        return Alert.objects.filter(group__in=visible.values("pk")).prefetch_related("observables", "resources").order_by("-received_at", "-id")

    @extend_schema(operation_id="alerts_list", parameters=[AlertFilterSerializer], responses=AlertSerializer(many=True))
    def get(self, request):
        filters = AlertFilterSerializer(data=request.query_params.dict())
        filters.is_valid(raise_exception=True)
        queryset = self.get_queryset()
        data = filters.validated_data
        for name in ("source", "severity"):
            if name in data:
                queryset = queryset.filter(**{name: data[name]})
        if "group" in data:
            queryset = queryset.filter(group_id=data["group"])
        if "received_after" in data:
            queryset = queryset.filter(received_at__gt=data["received_after"])
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(AlertSerializer(page, many=True).data)

    @extend_schema(operation_id="alerts_create", request=AlertCreateSerializer,
                   responses={201: AlertIdSerializer, 200: OpenApiResponse(AlertIdSerializer, description="A replay: the same alert."),
                              422: REFUSED})
    def post(self, request):
        return _ingest(request.data, request.user)


class AlertBulk(APIView):
    required_scopes = INTAKE
    max_body_bytes = BULK_BODY_BYTES

    @extend_schema(operation_id="alerts_bulk_create", request=AlertBulkSerializer, responses={200: AlertBulkResultSerializer, 422: REFUSED})
    def post(self, request):
        payloads = request.data.get("alerts") if isinstance(request.data, dict) else None
        if payloads is None:
            raise serializers.ValidationError({"alerts": ["A list of up to 500 alerts."]})
        try:
            results = intake.ingest_alerts_bulk(payloads=payloads, by=request.user)
        except AlertRejected as exc:
            raise _rejected(exc) from None
        return Response({"results": [{"id": a.pk, "group": a.group_id, "created": c} for a, c in results]})


def _vendor_schema(operation_id: str, description: str, **more):
    """Document an intake operation whose body is the sender's own JSON object, mapped to an alert here."""
    return extend_schema(operation_id=operation_id, request={"application/json": {"type": "object"}}, description=description,
                         responses={201: AlertIdSerializer, 200: AlertIdSerializer, 422: REFUSED}, **more)


class VendorAlert(APIView):
    """Shared body of the vendor endpoints: map the vendor shape, then the ordinary intake."""

    required_scopes = INTAKE
    mapper = None

    def post(self, request):
        return _ingest(request.data, request.user, mapper=self.mapper)


@extend_schema_view(post=_vendor_schema("alerts_sentinel_create",
                                        "A Microsoft Sentinel incident as a Logic App or automation rule sends it."))
class SentinelAlert(VendorAlert):
    mapper = staticmethod(from_sentinel)


@extend_schema_view(post=_vendor_schema("alerts_ocsf_create", "An OCSF Detection Finding (class_uid 2004)."))
class OcsfAlert(VendorAlert):
    mapper = staticmethod(from_ocsf)


class SignedIntake(APIView):
    """Alerts from webhook-only senders, signed with the sender's Standard Webhooks secret; no token."""

    # Refusals are 403, not 401: there is no credential scheme to name in WWW-Authenticate.
    authentication_classes: list = []
    permission_classes: list = []
    throttle_classes: list = []

    @_vendor_schema("alerts_signed_intake", "Headers webhook-id, webhook-timestamp and webhook-signature (Standard Webhooks). "
                                            "The body is the sender's shape: Sentinel, OCSF, or the IRT alert.", auth=[])
    def post(self, request, source):
        sender = AlertSource.objects.filter(slug=source, enabled=True).select_related("service_account").first()
        body = request._request.body if sender else b""
        try:
            if sender is None:
                raise standardwebhooks.webhooks.WebhookVerificationError("unknown sender")
            standardwebhooks.Webhook(sender.secret).verify(body, {k.lower(): v for k, v in request.headers.items()})
        except (standardwebhooks.webhooks.WebhookVerificationError, ValueError):
            # One answer for an unknown sender, a wrong signature and a stale timestamp.
            raise Problem(403, "The webhook signature is missing, wrong or too old.", type="bad-signature") from None
        payload = StrictJSONParser().parse(io.BytesIO(body), parser_context={"view": self, "request": request})
        # The vendor mapping runs inside _ingest, so a body that is no Sentinel incident or OCSF
        # finding is the same 422 as on the token endpoints, never a 500.
        mapper = {Alert.Source.SENTINEL: from_sentinel, Alert.Source.OCSF: from_ocsf}.get(sender.source)
        if mapper is None and isinstance(payload, dict):
            payload = {"source": sender.source, **payload}
            if payload["source"] != sender.source:
                raise serializers.ValidationError({"source": [f"This sender posts {sender.source} alerts."]})
        return _ingest(payload, sender.service_account, mapper=mapper)


# -- reading and triage ----------------------------------------------------------------------


class AlertDetail(APIView):
    required_scopes = READ

    @extend_schema(operation_id="alerts_retrieve", responses=AlertSerializer)
    def get(self, request, alert_id):
        visible = selectors_alerts.visible_groups(request.user)
        alert = Alert.objects.filter(pk=alert_id, group__in=visible.values("pk")).prefetch_related("observables", "resources").first()
        if alert is None:
            raise Http404("No such alert.")
        return Response(AlertSerializer(alert).data)


def _group_for(request, group_id) -> AlertGroup:
    group = selectors_alerts.visible_groups(request.user).filter(pk=group_id).select_related("case", "handled_by").first()
    if group is None:
        raise Http404("No such alert group.")
    return group


class GroupList(generics.GenericAPIView):
    required_scopes = READ
    serializer_class = AlertGroupSerializer

    @extend_schema(operation_id="alert_groups_list", parameters=[GroupFilterSerializer], responses=AlertGroupSerializer(many=True))
    def get(self, request):
        filters = GroupFilterSerializer(data=request.query_params.dict())
        filters.is_valid(raise_exception=True)
        queryset = selectors_alerts.triage_queue(request.user, status=filters.validated_data.get("status", ""))
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(AlertGroupSerializer(page, many=True).data)


class GroupDetail(APIView):
    required_scopes = READ

    @extend_schema(operation_id="alert_groups_retrieve", responses=AlertGroupSerializer)
    def get(self, request, group_id):
        return Response(AlertGroupSerializer(_group_for(request, group_id)).data)


class GroupPromote(APIView):
    required_scopes = TRIAGE

    @extend_schema(operation_id="alert_groups_promote", request=PromoteSerializer, responses={201: CaseRefSerializer})
    def post(self, request, group_id):
        case = submit(request, triage.promote_group, PromoteSerializer, group=_group_for(request, group_id))
        return Response({"reference": case.reference}, status=status.HTTP_201_CREATED)


class GroupAttach(APIView):
    required_scopes = TRIAGE

    @extend_schema(operation_id="alert_groups_attach", request=AttachSerializer, responses={200: CaseRefSerializer})
    def post(self, request, group_id):
        group = _group_for(request, group_id)
        case = case_for(request, valid_body(AttachSerializer, request)["case"].strip().upper(), write=True)
        case = triage.attach_group(group=group, case=case, by=request.user)
        return Response({"reference": case.reference})


class GroupDismiss(APIView):
    required_scopes = TRIAGE

    @extend_schema(operation_id="alert_groups_dismiss", request=DismissSerializer, responses={200: AlertGroupSerializer})
    def post(self, request, group_id):
        group = submit(request, triage.dismiss_group, DismissSerializer, group=_group_for(request, group_id))
        return Response(AlertGroupSerializer(group).data)


class CaseObservables(APIView):
    required_scopes = {"read": ApiToken.Scope.CASES_READ}

    @extend_schema(operation_id="cases_observables_list", responses=ObservableSightingsSerializer(many=True))
    def get(self, request, reference):
        case = case_for(request, reference)
        observables = list(case.observables.order_by("kind", "value"))
        elsewhere = selectors_alerts.seen_elsewhere(request.user, case, [o.pk for o in observables])
        return Response([
            ObservableSightingsSerializer(o, context={"cases": elsewhere.get(o.pk, [])}).data for o in observables
        ])


class ObservableDetail(APIView):
    required_scopes = READ

    @extend_schema(operation_id="observables_retrieve", responses=ObservableSightingsSerializer)
    def get(self, request, observable_id):
        if not is_staff_user(request.user):
            raise Http404("No such observable.")
        observable = Observable.objects.filter(pk=observable_id).first()
        if observable is None:
            raise Http404("No such observable.")
        sightings = selectors_alerts.observable_sightings(request.user, observable)
        return Response(ObservableSightingsSerializer(observable, context={"cases": sightings["cases"]}).data)


urlpatterns = [
    path("alerts/", AlertList.as_view(), name="alert-list"),
    path("alerts/bulk/", AlertBulk.as_view(), name="alert-bulk"),
    path("alerts/sentinel/", SentinelAlert.as_view(), name="alert-sentinel"),
    path("alerts/ocsf/", OcsfAlert.as_view(), name="alert-ocsf"),
    path("alerts/<int:alert_id>/", AlertDetail.as_view(), name="alert-detail"),
    path("alert-groups/", GroupList.as_view(), name="alert-group-list"),
    path("alert-groups/<int:group_id>/", GroupDetail.as_view(), name="alert-group-detail"),
    path("alert-groups/<int:group_id>/promote/", GroupPromote.as_view(), name="alert-group-promote"),
    path("alert-groups/<int:group_id>/attach/", GroupAttach.as_view(), name="alert-group-attach"),
    path("alert-groups/<int:group_id>/dismiss/", GroupDismiss.as_view(), name="alert-group-dismiss"),
    path("cases/<str:reference>/observables/", CaseObservables.as_view(), name="case-observables"),
    path("observables/<int:observable_id>/", ObservableDetail.as_view(), name="observable-detail"),
    path("intake/<slug:source>/", SignedIntake.as_view(), name="alert-intake"),
]
