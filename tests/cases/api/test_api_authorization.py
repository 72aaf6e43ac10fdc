"""Every API endpoint × role × scope: who gets an answer, who is turned away, and how.

Roles hold a token with exactly the scope the endpoint needs, so the scope is shown sufficient;
``test_a_token_without_the_scope_gets_403`` shows it is necessary. ``test_every_api_url_is_in_the_matrix``
walks the ``api`` URL namespace and fails for an endpoint without expectations.
"""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.client import MULTIPART_CONTENT, encode_multipart
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from cases.models import ApiToken, Case, TimelineEvent
from cases.services import api_tokens, breach, tasks
from cases.services import cases as case_services
from tests.cases.api.conftest import ALL_SCOPES, ApiClient, token_for
from tests.factories import OrganizationFactory, StaffFactory, case_in_stage
from tests.cases.alerts.samples import alert_ids, alert_payload, vendor_sample

R, W, EV = ApiToken.Scope.CASES_READ, ApiToken.Scope.CASES_WRITE, ApiToken.Scope.EVIDENCE_WRITE

ROLES = [
    "anonymous",  # no Authorization header
    "bad_token",
    "expired_token",
    "revoked_token",
    "customer",  # customers' users get no API: their token is refused
    "nonmember_responder",
    "member_responder",
    "comms",
    "manager",
    "admin",
]
NO_ACCESS = {role: 401 for role in ROLES[:5]}
STAFF_READ = {**NO_ACCESS, **{role: 200 for role in ROLES[5:]}}
CASE_READ = {**STAFF_READ, "nonmember_responder": 404}
CASE_CHANGE = {**CASE_READ, "comms": 403}
CASE_CREATE = {**CASE_CHANGE, "member_responder": 201, "manager": 201, "admin": 201}
OPEN_CASE = {**STAFF_READ, "comms": 403, "nonmember_responder": 201, "member_responder": 201, "manager": 201, "admin": 201}
CONFIRM = {**CASE_READ, "member_responder": 403}  # the member added the row; only a manager or comms confirms
PUBLIC = {role: 200 for role in ROLES}
SEND_ALERT = {**STAFF_READ, "comms": 403, "nonmember_responder": 201, "member_responder": 201, "manager": 201, "admin": 201}
AR, AW = ApiToken.Scope.ALERTS_READ, ApiToken.Scope.ALERTS_WRITE
UNKNOWN = {role: 404 for role in ROLES}

# (url name, method) → (url kwargs, scope needed or None, expectations, body builder)
ENDPOINTS = {
    ("api:schema", "get"): ({}, None, PUBLIC, None),
    ("api:docs", "get"): ({}, None, PUBLIC, None),
    ("api:not-found", "get"): ({}, None, UNKNOWN, None),
    ("api:case-list", "get"): ({}, R, STAFF_READ, None),
    ("api:case-list", "post"): ({}, W, OPEN_CASE, lambda w: {"title": "Opened by a connector", "severity": "high"}),
    ("api:case-detail", "get"): ({"reference": "CASE"}, R, CASE_READ, None),
    ("api:case-detail", "patch"): ({"reference": "CASE"}, W, CASE_CHANGE, lambda w: {"title": "Renamed through the API"}),
    ("api:case-actions", "get"): ({"reference": "CASE"}, R, CASE_READ, None),
    ("api:case-action", "post"): ({"reference": "CASE", "action": "stabilize"}, W, CASE_CHANGE,
                                  lambda w: {"note": "Contained by revoking the key."}),
    ("api:case-timeline", "get"): ({"reference": "CASE"}, R, CASE_READ, None),
    ("api:case-notes", "post"): ({"reference": "CASE"}, W, CASE_CREATE, lambda w: {"text": "Checked the LB logs."}),
    ("api:case-tasks", "get"): ({"reference": "CASE"}, R, CASE_READ, None),
    ("api:case-tasks", "post"): ({"reference": "CASE"}, W, CASE_CREATE, lambda w: {"title": "Rotate the signing key"}),
    ("api:case-task", "patch"): ({"reference": "CASE", "task_id": "TASK"}, W, CASE_CHANGE, lambda w: {"done": True}),
    ("api:case-customers", "get"): ({"reference": "CASE"}, R, CASE_READ, None),
    ("api:case-customers", "post"): ({"reference": "CASE"}, W, CASE_CREATE,
                                     lambda w: {"organization": "fabrikam", "data_disclosed": True}),
    ("api:case-customer", "patch"): ({"reference": "CASE", "row_id": "ROW"}, W, CASE_CHANGE,
                                     lambda w: {"data_lost": True, "data_altered": False, "data_disclosed": True,
                                                "impact_statement": "Objects in one bucket were read."}),
    ("api:case-customer-confirm", "post"): ({"reference": "CASE", "row_id": "ROW"}, W, CONFIRM, lambda w: {}),
    ("api:case-customer-withdraw", "post"): ({"reference": "CASE", "row_id": "ROW"}, W, CASE_CHANGE,
                                             lambda w: {"reason": "Their bucket was in another region."}),
    ("api:case-evidence", "get"): ({"reference": "CASE"}, R, CASE_READ, None),
    ("api:case-evidence", "post"): ({"reference": "CASE"}, EV, CASE_CREATE, "multipart"),
    # Alerts: those who open cases (and connectors) send; staff read; triage changes cases, so cases:write.
    ("api:alert-list", "get"): ({}, AR, STAFF_READ, None),
    ("api:alert-list", "post"): ({}, AW, SEND_ALERT, lambda w: alert_payload()),
    ("api:alert-bulk", "post"): ({}, AW, {**SEND_ALERT, **{r: 200 for r, s in SEND_ALERT.items() if s == 201}},
                                 lambda w: {"alerts": [alert_payload(), alert_payload()]}),
    ("api:alert-sentinel", "post"): ({}, AW, SEND_ALERT, lambda w: vendor_sample("sentinel_incident_logic_app.json")),
    ("api:alert-ocsf", "post"): ({}, AW, SEND_ALERT, lambda w: vendor_sample("ocsf_detection_finding.json")),
    ("api:alert-detail", "get"): ({"alert_id": "ALERT"}, AR, STAFF_READ, None),
    ("api:alert-group-list", "get"): ({}, AR, STAFF_READ, None),
    ("api:alert-group-detail", "get"): ({"group_id": "GROUP"}, AR, STAFF_READ, None),
    ("api:alert-group-promote", "post"): ({"group_id": "GROUP"}, W, SEND_ALERT, lambda w: {}),
    ("api:alert-group-attach", "post"): ({"group_id": "GROUP"}, W, {**CASE_CHANGE}, lambda w: {"case": w["ids"]["CASE"]}),
    ("api:alert-group-dismiss", "post"): ({"group_id": "GROUP"}, W, {**SEND_ALERT, **{r: 200 for r, s in SEND_ALERT.items() if s == 201}},
                                          lambda w: {"reason": "benign", "note": "The weekly scanner."}),
    ("api:case-observables", "get"): ({"reference": "CASE"}, R, CASE_READ, None),
    ("api:observable-detail", "get"): ({"observable_id": "OBSERVABLE"}, AR, STAFF_READ, None),
    # Signed intake takes no token: without a valid signature everyone is refused.
    ("api:alert-intake", "post"): ({"source": "wazuh"}, None, {role: 403 for role in ROLES}, lambda w: alert_payload()),
    # Playbooks and clocks: steps and clocks are read like the case; skips and decisions are a manager's.
    ("api:case-playbook", "get"): ({"reference": "CASE"}, R, CASE_READ, None),
    ("api:case-playbook", "post"): ({"reference": "CASE"}, W, CASE_CHANGE, lambda w: {"playbook": "dos"}),
    ("api:case-playbook-skip", "post"): ({"reference": "CASE", "task_id": "STEP_TASK"}, W, {**CASE_CHANGE, "member_responder": 403},
                                         lambda w: {"reason": "The customer exported the logs."}),
    ("api:case-clocks", "get"): ({"reference": "CASE"}, R, CASE_READ, None),
    ("api:case-clock-decisions", "get"): ({"reference": "CASE"}, R, CASE_READ, None),
    ("api:case-clock-decisions", "post"): ({"reference": "CASE"}, W, {**CASE_CREATE, "member_responder": 403},
                                           lambda w: {"kind": "material", "note": "Disclosure committee: material."}),
    ("api:case-clock-submissions", "post"): ({"reference": "CASE", "deadline_id": "CLOCK"}, W, CASE_CREATE,
                                             lambda w: {"content": "Art. 33 form.", "reference_number": "CNIL-42"}),
}


@pytest.fixture
def world(manager, responder, other_responder, comms, admin, contoso, fabrikam, contoso_user):
    """A diagnosing case owned by the manager, the responder a member, Contoso added by the responder (unconfirmed)."""
    case = case_in_stage(Case.Status.DIAGNOSING, manager=manager)
    case_services.add_member(case=case, by=manager, user=responder)
    task = tasks.add_task(case=case, by=manager, title="Collect the flow logs")
    row = breach.add_affected_customer(case=case, by=responder, organization=contoso, data_disclosed=True,
                                       impact_statement="Listings of one bucket were exposed.")
    users = {"nonmember_responder": other_responder, "member_responder": responder, "comms": comms,
             "manager": manager, "admin": admin}
    return {"case": Case.objects.get(pk=case.pk), "users": users, "contoso_user": contoso_user,
            "ids": {"CASE": case.reference, "TASK": task.pk, "ROW": row.pk, **alert_ids(manager), **sop_ids(case, manager)}}


def sop_ids(case, manager):
    """A playbook the case follows (one step task in diagnosing), another to apply, and a running GDPR clock."""
    from cases.models import ClockDecision
    from cases.services import clocks, playbooks

    step = {"stage": Case.Status.DIAGNOSING, "order": 1, "title": "Export the access logs", "nist_function": "respond"}
    followed = playbooks.save_playbook(by=manager, playbook=None, slug="exposure", name="Exposure", purpose="Data read.",
                                       auto_apply=False, criteria={}, steps=[step])
    playbooks.save_playbook(by=manager, playbook=None, slug="dos", name="Denial of service", purpose="Floods.",
                            auto_apply=False, criteria={}, steps=[])
    playbooks.apply_playbook(case=case, version=followed, by=manager)
    clocks.record_decision(case=case, by=manager, kind=ClockDecision.Kind.PERSONAL_DATA_BREACH, note="Personal data.")
    return {"STEP_TASK": case.tasks.get(step__isnull=False).pk, "CLOCK": case.deadlines.get().pk}


def client_for(role: str, world, scopes) -> ApiClient:
    """Return a client whose token (if any) is in the state the role names."""
    scopes = list(scopes)
    if role == "anonymous":
        return ApiClient(None)
    if role == "bad_token":
        return ApiClient("irt_00000000_not-a-real-token")
    owner = world["users"]["member_responder"]
    if role == "customer":
        # Customers cannot be given a token; one forced into the table must still be refused.
        raw = "irt_cafecafe_customer-token-forced-into-the-table"
        ApiToken.objects.create(user=world["contoso_user"], name="forced", scopes=scopes, prefix="cafecafe",
                                token_hash=api_tokens.hash_token(raw), expires_at=timezone.now() + timedelta(days=1))
        return ApiClient(raw)
    if role in ("expired_token", "revoked_token"):
        token, raw = api_tokens.create_token(user=owner, by=owner, name=role, scopes=scopes, days=1)
        if role == "expired_token":
            ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
        else:
            api_tokens.revoke_token(token=token, by=owner)
        return ApiClient(raw)
    user = world["users"][role]
    return ApiClient(token_for(user, *scopes))


def call(client: ApiClient, method: str, url: str, body):
    if body == "multipart":
        payload = encode_multipart("BoUnDaRy", {"file": SimpleUploadedFile("proxy.log", b"GET /admin HTTP/1.1\n"),
                                                "description": "Proxy log of the first request."})
        return client.post(url, payload, content_type="multipart/form-data; boundary=BoUnDaRy")
    if method == "get":
        return client.get(url)
    return getattr(client, method)(url, body or {})


def url_of(url_name, kwargs, world):
    return reverse(url_name, kwargs={key: world["ids"].get(value, value) if isinstance(value, str) else value
                                     for key, value in kwargs.items()})


def _events(case) -> int:
    return TimelineEvent.objects.filter(case=case).exclude(kind=TimelineEvent.Kind.REFUSED).count()


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS), ids=lambda e: f"{e[0]}-{e[1]}")
def test_endpoint_answers_each_role_as_the_matrix_says(world, endpoint, role):
    url_name, method = endpoint
    kwargs, scope, expectations, body = ENDPOINTS[endpoint]
    client = client_for(role, world, [scope] if scope else ALL_SCOPES)
    before = _events(world["case"])
    response = call(client, method, url_of(url_name, kwargs, world), body(world) if callable(body) else body)
    assert response.status_code == expectations[role], (response.status_code, response.content[:300])
    if response.status_code >= 400:
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["status"] == response.status_code
        assert _events(world["case"]) == before, "a refused request changed the case"
    if response.status_code == 401:
        assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("endpoint", sorted(e for e, spec in ENDPOINTS.items() if spec[1]), ids=lambda e: f"{e[0]}-{e[1]}")
def test_a_token_without_the_scope_gets_403(world, endpoint):
    url_name, method = endpoint
    kwargs, scope, _, body = ENDPOINTS[endpoint]
    others = [s for s in ALL_SCOPES if s != scope]
    client = ApiClient(token_for(world["users"]["manager"], *others))
    before = _events(world["case"])
    response = call(client, method, url_of(url_name, kwargs, world), body(world) if callable(body) else body)
    assert response.status_code == 403, response.content[:300]
    assert scope in response.json()["detail"]
    assert _events(world["case"]) == before


def test_a_restricted_case_is_404_for_a_manager_who_is_not_a_member(world, manager, responder):
    restricted = case_services.open_case(by=responder, title="Insider case", source=Case.Source.INTERNAL, restricted=True)
    response = ApiClient(token_for(manager, R)).get(f"/api/v1/cases/{restricted.reference}/")
    assert response.status_code == 404
    assert restricted.reference not in response.content.decode()


def test_a_session_cookie_does_not_open_the_api(client, world):
    client.force_login(world["users"]["manager"])
    response = client.get(f"/api/v1/cases/{world['case'].reference}/")
    assert response.status_code == 401


def test_a_token_of_a_deactivated_user_stops_working(world, responder):
    raw = token_for(responder, R)
    responder.is_active = False
    responder.save(update_fields=["is_active"])
    assert ApiClient(raw).get("/api/v1/cases/").status_code == 401


def _api_url_names(resolver: URLResolver, namespace: str = "", inside: bool = False) -> set[str]:
    names = set()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            child = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            names |= _api_url_names(pattern, child, inside or pattern.namespace == "api")
        elif isinstance(pattern, URLPattern) and inside:
            assert pattern.name, f"unnamed API URL {pattern.pattern}"
            names.add(f"{namespace}{pattern.name}")
    return names


def _methods(url_name: str) -> set[str]:
    """Return the HTTP methods the view of ``url_name`` implements (besides HEAD and OPTIONS)."""
    for pattern in _patterns(get_resolver()):
        if pattern[0] == url_name:
            view = pattern[1]
            cls = getattr(view, "cls", None) or getattr(view, "view_class", None)
            if cls is None:
                return {"get"}
            return {m for m in ("get", "post", "put", "patch", "delete") if hasattr(cls, m)}
    raise AssertionError(url_name)


def _patterns(resolver, namespace=""):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _patterns(pattern, f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace)
        elif pattern.name:
            yield f"{namespace}{pattern.name}", pattern.callback


def test_every_api_url_and_method_is_in_the_matrix():
    names = _api_url_names(get_resolver())
    assert "api:case-detail" in names  # the walk found the API at all
    covered = set(ENDPOINTS)
    missing = sorted((name, method) for name in names for method in _methods(name) if (name, method) not in covered)
    assert not missing, f"API endpoints without authorization expectations: {missing}"
