"""Cases over the API do what the browser does, through the same services: each change on the timeline."""

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cases.models import AffectedCustomer, Case, Service, TimelineEvent
from cases.services import cases as case_services
from tests.cases.api.conftest import ApiClient, token_for
from tests.factories import case_in_stage


@pytest.fixture
def as_manager(manager):
    return ApiClient(token_for(manager))


def test_a_connector_opens_a_case_and_reads_it_back(db, responder):
    api = ApiClient(token_for(responder, "cases:read", "cases:write"))
    Service.objects.create(name="Object storage")
    response = api.post("/api/v1/cases/", {"title": "Mass download from a bucket", "severity": "high",
                                           "source": "alert", "affected_services": ["Object storage"]})
    assert response.status_code == 201
    reference = response.json()["reference"]
    assert response["Location"] == f"/api/v1/cases/{reference}/"
    case = Case.objects.get(reference=reference)
    assert case.created_by == responder and case.timeline.get().kind == TimelineEvent.Kind.OPENED
    read = api.get(f"/api/v1/cases/{reference}/").json()
    assert read["severity"] == "high" and read["affected_services"] == ["Object storage"] and read["status"] == "detected"


def test_the_case_list_takes_the_case_pages_filters_and_pages(db, manager, as_manager):
    for n in range(3):
        case_services.open_case(by=manager, title=f"Phishing wave {n}", source=Case.Source.ALERT, severity="low")
    case_services.open_case(by=manager, title="Leaked key", source=Case.Source.RESEARCHER, severity="critical")
    assert as_manager.get("/api/v1/cases/", {"severity": "critical"}).json()["count"] == 1
    page = as_manager.get("/api/v1/cases/", {"q": "phishing", "page_size": 2}).json()
    assert page["count"] == 3 and len(page["results"]) == 2 and page["next"]
    assert as_manager.get("/api/v1/cases/", {"stage": "closed"}).json()["count"] == 0
    assert as_manager.get("/api/v1/cases/", {"stage": "sideways"}).status_code == 400


def test_details_and_owner_change_through_the_services(db, manager, responder, as_manager):
    case = case_services.open_case(by=manager, title="Port scan", source=Case.Source.ALERT)
    response = as_manager.patch(f"/api/v1/cases/{case.reference}/",
                                {"severity": "medium", "owner": "responder", "version": case.version})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["severity"] == "medium" and body["owner"] == "responder"
    kinds = list(case.timeline.values_list("kind", flat=True))
    assert kinds[-2:] == [TimelineEvent.Kind.DETAILS_CHANGED, TimelineEvent.Kind.OWNER_CHANGED]


def test_a_lifecycle_action_runs_by_name_with_the_same_guards(db, manager, as_manager):
    case = case_in_stage(Case.Status.DIAGNOSING, manager=manager)
    actions = {a["name"]: a for a in as_manager.get(f"/api/v1/cases/{case.reference}/actions/").json()}
    assert actions["stabilize"]["allowed"] and actions["stabilize"]["asks_for"] == ["note"]
    missing_note = as_manager.post(f"/api/v1/cases/{case.reference}/actions/stabilize/", {})
    assert missing_note.status_code == 409 and "containment" in missing_note.json()["reasons"][0]
    done = as_manager.post(f"/api/v1/cases/{case.reference}/actions/stabilize/", {"note": "Key revoked."})
    assert done.status_code == 200 and done.json()["status"] == "stabilizing"


def test_dismissing_as_duplicate_names_a_case_the_user_may_know(db, manager, as_manager):
    original = case_services.open_case(by=manager, title="Port scan", source=Case.Source.ALERT)
    copy = case_services.open_case(by=manager, title="Port scan again", source=Case.Source.ALERT)
    response = as_manager.post(f"/api/v1/cases/{copy.reference}/actions/dismiss/",
                               {"dismissal_reason": "duplicate", "duplicate_of": original.reference, "note": "Same scan."})
    assert response.status_code == 200 and response.json()["duplicate_of"] == original.reference


def test_notes_tasks_and_the_timeline(db, manager, as_manager):
    case = case_in_stage(Case.Status.DIAGNOSING, manager=manager)
    assert as_manager.post(f"/api/v1/cases/{case.reference}/notes/", {"text": "LB logs clean."}).status_code == 201
    task = as_manager.post(f"/api/v1/cases/{case.reference}/tasks/", {"title": "Rotate keys", "mandatory": True}).json()
    done = as_manager.patch(f"/api/v1/cases/{case.reference}/tasks/{task['id']}/", {"done": True}).json()
    assert done["done_at"] and done["done_by"] == "manager"
    timeline = as_manager.get(f"/api/v1/cases/{case.reference}/timeline/", {"page_size": 200}).json()
    sequences = [event["sequence"] for event in timeline["results"]]
    assert sequences == sorted(sequences) and timeline["count"] == case.timeline.count()
    assert [e["kind"] for e in timeline["results"]][-3:] == ["note", "task_added", "task_done"]


def test_an_affected_customer_waits_for_a_second_person(db, manager, comms, contoso):
    case = case_in_stage(Case.Status.DIAGNOSING, manager=manager)
    added = ApiClient(token_for(manager)).post(f"/api/v1/cases/{case.reference}/customers/",
                                               {"organization": "contoso", "data_disclosed": True,
                                                "impact_statement": "Listings of one bucket were exposed."})
    assert added.status_code == 201 and added.json()["confirmed_at"] is None and added.json()["breach"] is True
    row_id = added.json()["id"]
    own = ApiClient(token_for(manager)).post(f"/api/v1/cases/{case.reference}/customers/{row_id}/confirm/", {})
    assert own.status_code == 409
    confirmed = ApiClient(token_for(comms)).post(f"/api/v1/cases/{case.reference}/customers/{row_id}/confirm/", {})
    assert confirmed.status_code == 200 and confirmed.json()["confirmed_by"] == "comms"
    assert AffectedCustomer.objects.get(pk=row_id).confirmed_at is not None


def test_evidence_upload_computes_the_servers_sha256(db, manager, as_manager):
    case = case_in_stage(Case.Status.DIAGNOSING, manager=manager)
    content = b"GET /admin HTTP/1.1\n" * 100
    response = as_manager.post(f"/api/v1/cases/{case.reference}/evidence/",
                               {"file": SimpleUploadedFile("proxy.log", content), "description": "Proxy log",
                                "declared_sha256": hashlib.sha256(content).hexdigest().upper()}, content_type=None)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["sha256"] == hashlib.sha256(content).hexdigest() and body["size"] == len(content)
    listed = as_manager.get(f"/api/v1/cases/{case.reference}/evidence/").json()
    assert [item["id"] for item in listed] == [body["id"]]
    assert case.timeline.filter(kind=TimelineEvent.Kind.EVIDENCE_ADDED).count() == 1


def test_evidence_upload_as_json_is_415(db, manager, as_manager):
    case = case_in_stage(Case.Status.DIAGNOSING, manager=manager)
    assert as_manager.post(f"/api/v1/cases/{case.reference}/evidence/", {"file": "aGVsbG8="}).status_code == 415


def test_evidence_upload_without_a_description_is_400(db, manager, as_manager):
    case = case_in_stage(Case.Status.DIAGNOSING, manager=manager)
    response = as_manager.post(f"/api/v1/cases/{case.reference}/evidence/",
                               {"file": SimpleUploadedFile("a.txt", b"x")}, content_type=None)
    assert response.status_code == 400 and "description" in response.json()["errors"]
    assert not case.evidence.exists()


def test_the_schema_is_openapi_3_1_and_the_docs_page_has_no_inline_script(client, db):
    schema = client.get("/api/v1/openapi.json")
    assert schema.status_code == 200 and schema.json()["openapi"].startswith("3.1")
    assert "bearerAuth" in schema.json()["components"]["securitySchemes"]
    docs = client.get("/api/v1/docs/")
    html = docs.content.decode()
    assert docs.status_code == 200 and "<script>" not in html and "<style" not in html
    assert "/static/drf_spectacular_sidecar/" in html and "script-src 'self'" in docs["Content-Security-Policy"]
    init = client.get("/api/v1/docs/", {"script": ""})
    assert init.status_code == 200 and b"/api/v1/openapi.json" in init.content


@pytest.mark.parametrize("padding", ["\x1e", " ", "\t"])
def test_a_title_over_the_schemas_length_is_refused_even_if_trimming_would_shorten_it(db, responder, padding):
    """The schema says maxLength 200 of what is sent; DRF would trim first (found by schemathesis)."""
    api = ApiClient(token_for(responder, "cases:read", "cases:write"))
    response = api.post("/api/v1/cases/", {"title": padding + "*" * 200})
    assert response.status_code == 400 and "title" in response.json()["errors"]
    assert not Case.objects.exists()
    assert api.post("/api/v1/cases/", {"title": padding + "*" * 199}).status_code == 201


@pytest.fixture
def ready_to_declare(manager, contoso):
    from tests.factories import AffectedCustomerFactory

    case = case_in_stage(Case.Status.DIAGNOSING, manager=manager)  # severity High, no breach category
    AffectedCustomerFactory(case=case, by=manager, organization=contoso, data_disclosed=True)
    return case


def test_declaring_a_breach_over_the_api_asks_when_the_details_disagree(db, ready_to_declare, as_manager):
    url = f"/api/v1/cases/{ready_to_declare.reference}/actions/declare_breach/"
    refused = as_manager.post(url, {"note": "Contoso's records left the bucket."})
    assert refused.status_code == 409
    assert any(reason.startswith("Severity is High") for reason in refused.json()["reasons"])
    ready_to_declare.refresh_from_db()
    assert ready_to_declare.breach_declared_at is None

    declared = as_manager.post(url, {"note": "Contoso's records left the bucket.", "severity": "critical",
                                     "breach_category": "privacy"})
    assert declared.status_code == 200, declared.content
    ready_to_declare.refresh_from_db()
    assert ready_to_declare.breach_declared_at is not None
    assert (ready_to_declare.severity, ready_to_declare.breach_category) == ("critical", "privacy")


def test_declaring_over_the_api_although_the_details_disagree_is_recorded(db, ready_to_declare, as_manager):
    url = f"/api/v1/cases/{ready_to_declare.reference}/actions/declare_breach/"
    declared = as_manager.post(url, {"note": "Confirmed.", "accept_conflicts": True})
    assert declared.status_code == 200, declared.content
    event = ready_to_declare.timeline.get(kind=TimelineEvent.Kind.BREACH_DECLARED)
    assert event.data["conflicts_accepted"] == ["severity_not_critical", "no_breach_category"]


def test_a_bad_severity_for_a_declaration_is_a_field_error_and_changes_nothing(db, ready_to_declare, as_manager):
    url = f"/api/v1/cases/{ready_to_declare.reference}/actions/declare_breach/"
    response = as_manager.post(url, {"note": "Confirmed.", "severity": "apocalyptic"})
    assert response.status_code in (400, 422) and "severity" in response.content.decode()
    ready_to_declare.refresh_from_db()
    assert ready_to_declare.breach_declared_at is None
