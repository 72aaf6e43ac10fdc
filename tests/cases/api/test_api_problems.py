"""Errors are RFC 9457 problem details: shapes, 400/401/403/404/409/413/415/422/429, never a 500, nothing changed."""

import hashlib

import pytest

from cases.models import Case, TimelineEvent
from cases.services import cases as case_services
from tests.cases.api.conftest import ApiClient, token_for
from tests.factories import case_in_stage

PROBLEM = "application/problem+json"


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.content[:400]
    assert response["Content-Type"] == PROBLEM
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == status and body["type"].startswith("https://")
    return body


@pytest.fixture
def manager_api(manager):
    return ApiClient(token_for(manager))


@pytest.mark.parametrize("raw", ["{bad", '{"title": "a", "title": "b"}', '{"title": NaN}', "[" * 100 + "]" * 100, ""])
def test_malformed_json_is_400_and_opens_nothing(db, manager_api, raw):
    response = manager_api.post("/api/v1/cases/", raw, content_type="application/json")
    assert_problem(response, 400)
    assert not Case.objects.exists()


@pytest.mark.parametrize(("raw", "field"), [('{"title": "nul \\u0000 here"}', "title"), ('{"title": "\\ud800"}', "title"),
                                            ('{"title": "x", "tags": {"a\\u0000": 1}}', "tags")])
def test_text_with_nul_or_a_lone_surrogate_is_422_naming_the_field_and_opens_nothing(db, manager_api, raw, field):
    response = manager_api.post("/api/v1/cases/", raw, content_type="application/json")
    body = assert_problem(response, 422)
    assert body["errors"] == {field: ["control characters are not allowed"]}
    assert not Case.objects.exists()


def test_a_body_in_a_compressing_charset_is_400(db, manager_api):
    response = manager_api.generic("POST", "/api/v1/cases/", b'{"title": "x"}', content_type="application/json; charset=bz2_codec",
                                   HTTP_AUTHORIZATION=f"Bearer {manager_api.token}")
    assert_problem(response, 400)


def test_a_view_may_accept_a_body_larger_than_djangos_form_limit(db, manager_api, settings):
    # The API's limit is the view's own, not DATA_UPLOAD_MAX_MEMORY_SIZE (which DRF's JSONParser inherits).
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    assert manager_api.post("/api/v1/cases/", {"title": "x", "internal_summary": "A" * 200}).status_code == 413
    from cases.api.cases import CaseList

    CaseList.max_body_bytes = 10_000
    try:
        assert manager_api.post("/api/v1/cases/", {"title": "x", "internal_summary": "A" * 200}).status_code == 201
    finally:
        del CaseList.max_body_bytes


def test_a_field_error_names_the_field(db, manager_api):
    body = assert_problem(manager_api.post("/api/v1/cases/", {"title": {"nested": 1}, "severity": "apocalyptic"}), 400)
    assert set(body["errors"]) == {"title", "severity"}
    assert body["type"].endswith("/validation")


def test_an_unknown_owner_is_422_naming_the_field(db, manager_api):
    body = assert_problem(manager_api.post("/api/v1/cases/", {"title": "Leaked key", "owner": "nobody-here"}), 422)
    assert list(body["errors"]) == ["owner"]
    assert not Case.objects.exists()


def test_an_oversized_body_is_413_before_it_is_parsed(db, manager_api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = assert_problem(manager_api.post("/api/v1/cases/", {"title": "x", "internal_summary": "A" * 2000}), 413)
    assert body["limit"] == 1000
    assert not Case.objects.exists()


def test_a_form_encoded_body_is_415(db, manager_api):
    response = manager_api.post("/api/v1/cases/", "title=x", content_type="application/x-www-form-urlencoded")
    assert_problem(response, 415)


def test_no_token_is_401_with_a_bearer_challenge(db):
    response = ApiClient(None).get("/api/v1/cases/")
    assert_problem(response, 401)
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


@pytest.mark.parametrize("header", ["Token abc", "Bearer", "Basic dXNlcjpwYXNz", "Bearer irt_x_y"])
def test_a_wrong_authorization_header_is_401(db, header):
    response = ApiClient(None).get("/api/v1/cases/", HTTP_AUTHORIZATION=header)
    assert_problem(response, 401)


def test_an_unknown_api_path_is_a_404_problem_even_for_a_post(db, manager_api):
    assert_problem(manager_api.post("/api/v1/no-such-thing/", {}), 404)


def test_a_lifecycle_blocker_is_409_with_its_reasons_and_the_refusal_is_recorded(db, manager, manager_api):
    case = case_services.open_case(by=manager, title="Port scan", source=Case.Source.ALERT)
    body = assert_problem(manager_api.post(f"/api/v1/cases/{case.reference}/actions/start_assessment/", {}), 409)
    assert body["reasons"] == ["Assign an owner: someone must be on point for the assessment."]
    case.refresh_from_db()
    assert case.status == Case.Status.DETECTED
    assert TimelineEvent.objects.filter(case=case, kind=TimelineEvent.Kind.REFUSED).count() == 1


def test_a_stale_version_is_409_and_changes_nothing(db, manager, manager_api):
    case = case_in_stage(Case.Status.DIAGNOSING, manager=manager)
    response = manager_api.patch(f"/api/v1/cases/{case.reference}/", {"title": "Renamed", "version": case.version - 1})
    assert assert_problem(response, 409)["type"].endswith("/case-changed")
    case.refresh_from_db()
    assert case.title != "Renamed"


def test_an_unknown_action_is_404(db, manager, manager_api):
    case = case_services.open_case(by=manager, title="Port scan", source=Case.Source.ALERT)
    assert_problem(manager_api.post(f"/api/v1/cases/{case.reference}/actions/self_destruct/", {}), 404)


def test_an_unexpected_error_is_a_500_problem_not_a_traceback_page(db, manager_api, monkeypatch):
    from cases.selectors import cases as selectors

    def broken(*args, **kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(selectors, "case_list", broken)
    body = assert_problem(manager_api.get("/api/v1/cases/"), 500)
    assert "fire" not in body["detail"]


def test_the_rate_limit_is_per_token_with_retry_after(db, manager, responder, settings):
    settings.IRT_API_RATE = "2/min"
    first = ApiClient(token_for(manager))
    assert first.get("/api/v1/cases/").status_code == 200
    assert first.get("/api/v1/cases/").status_code == 200
    limited = first.get("/api/v1/cases/")
    body = assert_problem(limited, 429)
    assert 1 <= int(limited["Retry-After"]) <= 60 and body["retry_after"] == int(limited["Retry-After"])
    # Another token has its own budget.
    assert ApiClient(token_for(responder)).get("/api/v1/cases/").status_code == 200


def test_a_bad_page_number_is_400(db, manager_api):
    for query in ({"page": "0"}, {"page": "x"}, {"page_size": "1000"}):
        assert_problem(manager_api.get("/api/v1/cases/", query), 400)


def test_an_evidence_upload_over_the_limit_is_413_and_stores_nothing(db, manager, manager_api, settings):
    settings.IRT_EVIDENCE_MAX_BYTES = 10
    case = case_in_stage(Case.Status.DIAGNOSING, manager=manager)
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = manager_api.post(
        f"/api/v1/cases/{case.reference}/evidence/",
        {"file": SimpleUploadedFile("memory.img", b"x" * 100), "description": "Memory image"},
        content_type=None,
    )
    assert_problem(response, 413)
    assert not case.evidence.exists()
    assert TimelineEvent.objects.filter(case=case, kind=TimelineEvent.Kind.REFUSED).exists()


def test_a_declared_sha256_that_differs_is_409_and_stores_nothing(db, manager, manager_api):
    case = case_in_stage(Case.Status.DIAGNOSING, manager=manager)
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = manager_api.post(
        f"/api/v1/cases/{case.reference}/evidence/",
        {"file": SimpleUploadedFile("proxy.log", b"GET /"), "description": "Proxy log",
         "declared_sha256": hashlib.sha256(b"something else").hexdigest()},
        content_type=None,
    )
    assert "not the declared" in assert_problem(response, 409)["reasons"][0]
    assert not case.evidence.exists()
