"""The alert endpoints: intake with replays, bulk, vendor shapes, signed intake, reading and triage."""

import base64
import json
import time

import pytest
import standardwebhooks

from cases.models import Alert, AlertGroup, AlertSource, Case, Observable
from tests.cases.alerts.samples import alert_payload, vendor_sample
from tests.factories import case_in_stage


@pytest.fixture
def connector(admin):
    """A connector's service account, made as admins make them (api_ready: teams=["Responders"])."""
    from cases.services.api_tokens import create_service_account

    return create_service_account(by=admin, username="sentinel-connector", teams=["Responders"])


def nothing_stored():
    return not Alert.objects.exists() and not AlertGroup.objects.exists() and not Observable.objects.exists()


def test_first_receipt_answers_201_and_a_replay_200_with_the_same_id(api, connector):
    client = api(connector, "alerts:write")
    payload = alert_payload(source_ref="SIEM-1")
    first = client.post("/api/v1/alerts/", payload)
    again = client.post("/api/v1/alerts/", payload)
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["id"] == again.json()["id"] and first.json()["created"] is True
    assert Alert.objects.get().seen_count == 2


def test_bulk_takes_up_to_500_alerts(api, connector):
    client = api(connector, "alerts:write")
    response = client.post("/api/v1/alerts/bulk/", {"alerts": [alert_payload() for _ in range(500)]})
    assert response.status_code == 200 and len(response.json()["results"]) == 500
    assert Alert.objects.count() == 500
    too_many = client.post("/api/v1/alerts/bulk/", {"alerts": [alert_payload() for _ in range(501)]})
    assert too_many.status_code == 422 and Alert.objects.count() == 500


def test_sentinel_and_ocsf_endpoints_take_the_vendor_shapes(api, connector):
    client = api(connector, "alerts:write")
    sentinel = client.post("/api/v1/alerts/sentinel/", vendor_sample("sentinel_incident_logic_app.json"))
    ocsf = client.post("/api/v1/alerts/ocsf/", vendor_sample("ocsf_detection_finding.json"))
    assert sentinel.status_code == 201 and ocsf.status_code == 201
    assert set(Alert.objects.values_list("source", "severity")) == {("sentinel", "high"), ("ocsf", "critical")}
    assert client.post("/api/v1/alerts/ocsf/", vendor_sample("ocsf_detection_finding.json")).status_code == 200


# Malformed JSON and duplicate keys are the parser's 400; JSON that is no storable alert is 422.
@pytest.mark.parametrize(("body", "status", "field"), [
    ('{"source": "custom", "title": ', 400, None),  # malformed JSON
    ('{"source": "custom", "source": "splunk"}', 400, None),  # duplicate keys
    (json.dumps(alert_payload(severity="apocalyptic")), 422, "severity"),
    (json.dumps(alert_payload(title=12345)), 422, "title"),
    (json.dumps(alert_payload(observables={"kind": "ip"})), 422, "observables"),
    (json.dumps(alert_payload(title="bell\u0007")), 422, "title"),
    (json.dumps(alert_payload(correlation_key=None)), 422, "correlation_key"),
    (json.dumps(alert_payload(description="x" * (10 * 1024 * 1024))), 413, None),
    (json.dumps(alert_payload(observables=[{"kind": "ip", "value": "10.0.0.1"}] * 10_000)), 422, "observables"),
    ('[1, 2, 3]', 422, None),
])
def test_bad_input_is_a_clear_problem_and_nothing_is_stored(api, connector, body, status, field):
    response = api(connector, "alerts:write").post("/api/v1/alerts/", body, content_type="application/json")
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/problem+json")
    if field:
        assert field in response.json()["errors"], response.json()
    assert nothing_stored()


def test_description_of_one_megabyte_over_the_limit_is_refused_by_field(api, connector):
    response = api(connector, "alerts:write").post("/api/v1/alerts/", alert_payload(description="y" * 1_000_000))
    assert response.status_code == 422 and "description" in response.json()["errors"]
    assert nothing_stored()


def test_an_alerts_write_token_cannot_read_or_triage(api, connector, responder):
    client = api(connector, "alerts:write")
    alert = client.post("/api/v1/alerts/", alert_payload()).json()
    assert client.get("/api/v1/alerts/").status_code == 403
    assert client.get(f"/api/v1/alert-groups/{alert['group']}/").status_code == 403
    assert client.post(f"/api/v1/alert-groups/{alert['group']}/promote/", {}).status_code == 403
    assert not Case.objects.exists()


def test_comms_token_with_every_scope_cannot_triage(api, comms, responder):
    alert = api(responder, "alerts:write").post("/api/v1/alerts/", alert_payload()).json()
    client = api(comms)
    assert client.post("/api/v1/alerts/", alert_payload()).status_code == 403
    assert client.post(f"/api/v1/alert-groups/{alert['group']}/promote/", {}).status_code == 403
    assert AlertGroup.objects.get().status == "new"


def test_responder_lists_reads_and_promotes_through_the_api(api, responder):
    client = api(responder, "alerts:write", "alerts:read", "cases:write", "cases:read")
    created = client.post("/api/v1/alerts/", alert_payload(severity="critical", title="Key exfiltration")).json()
    client.post("/api/v1/alerts/", alert_payload(source="splunk", severity="low", observables=[]))
    listed = client.get("/api/v1/alerts/", {"severity": "critical"}).json()
    assert [row["id"] for row in listed["results"]] == [created["id"]]
    assert client.get("/api/v1/alerts/", {"severity": "bogus"}).status_code == 400
    assert client.get(f"/api/v1/alerts/{created['id']}/").json()["title"] == "Key exfiltration"
    queue = client.get("/api/v1/alert-groups/", {"status": "new"}).json()["results"]
    assert queue[0]["id"] == created["group"]
    promoted = client.post(f"/api/v1/alert-groups/{created['group']}/promote/", {"title": "Key exfiltration from CI"})
    assert promoted.status_code == 201
    reference = promoted.json()["reference"]
    assert Case.objects.get(reference=reference).severity == "critical"
    again = client.post(f"/api/v1/alert-groups/{created['group']}/promote/", {})
    assert again.status_code == 409 and Case.objects.count() == 1
    observables = client.get(f"/api/v1/cases/{reference}/observables/").json()
    assert [o["value"] for o in observables] == ["203.0.113.10"]


def test_attach_and_dismiss_through_the_api(api, manager):
    client = api(manager)
    case = case_in_stage(Case.Status.DIAGNOSING, manager=manager)
    one = client.post("/api/v1/alerts/", alert_payload(observables=[])).json()
    two = client.post("/api/v1/alerts/", alert_payload(observables=[])).json()
    assert client.post(f"/api/v1/alert-groups/{one['group']}/attach/", {"case": case.reference}).status_code == 200
    assert client.post(f"/api/v1/alert-groups/{two['group']}/dismiss/", {"reason": "benign", "note": "Backup job."}).json()["status"] == "dismissed"
    assert client.post(f"/api/v1/alert-groups/{two['group']}/dismiss/", {"reason": "nope", "note": "x"}).status_code in (400, 409)
    assert AlertGroup.objects.get(pk=one["group"]).case == case


def test_unknown_ids_are_404_even_when_out_of_range(api, manager):
    client = api(manager)
    for url in ("/api/v1/alerts/99999999999999999999/", "/api/v1/alert-groups/99999999999/", "/api/v1/observables/0/"):
        assert client.get(url).status_code == 404


# -- signed intake ---------------------------------------------------------------------------

SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()


@pytest.fixture
def sender(connector):
    return AlertSource.objects.create(slug="wazuh-eu", name="Wazuh EU", source="wazuh", secret=SECRET, service_account=connector)


def signed(body: bytes, *, secret=SECRET, timestamp=None, msg_id="msg_1"):
    from datetime import datetime, timezone

    moment = datetime.fromtimestamp(timestamp or time.time(), tz=timezone.utc)
    signature = standardwebhooks.Webhook(secret).sign(msg_id, moment, body.decode())
    return {"HTTP_WEBHOOK_ID": msg_id, "HTTP_WEBHOOK_TIMESTAMP": str(int(moment.timestamp())), "HTTP_WEBHOOK_SIGNATURE": signature}


def test_signed_intake_accepts_a_correctly_signed_alert(client, sender):
    payload = alert_payload()
    del payload["source"]
    body = json.dumps(payload).encode()
    response = client.post("/api/v1/intake/wazuh-eu/", body, content_type="application/json", **signed(body))
    assert response.status_code == 201
    assert Alert.objects.get().source == "wazuh"


@pytest.mark.parametrize("case", ["wrong_secret", "stale", "tampered", "unsigned", "unknown_sender", "disabled"])
def test_signed_intake_refuses_wrong_stale_or_missing_signatures(client, sender, case):
    payload = alert_payload(source="wazuh")
    body = json.dumps(payload).encode()
    headers = signed(body)
    url = "/api/v1/intake/wazuh-eu/"
    if case == "wrong_secret":
        headers = signed(body, secret="whsec_" + base64.b64encode(b"x" * 32).decode())
    elif case == "stale":
        headers = signed(body, timestamp=time.time() - 3600)
    elif case == "tampered":
        body = body.replace(b"high", b"low!")
    elif case == "unsigned":
        headers = {}
    elif case == "unknown_sender":
        url = "/api/v1/intake/nobody/"
    elif case == "disabled":
        AlertSource.objects.update(enabled=False)
    response = client.post(url, body, content_type="application/json", **headers)
    assert response.status_code == 403
    assert nothing_stored()


def test_signed_intake_refuses_another_source_label(client, sender):
    body = json.dumps(alert_payload(source="splunk")).encode()
    response = client.post("/api/v1/intake/wazuh-eu/", body, content_type="application/json", **signed(body))
    assert response.status_code == 400 and nothing_stored()


@pytest.mark.parametrize("vendor", ["sentinel", "ocsf"])
@pytest.mark.parametrize("body", [b"[1, 2]", b'"an incident"', b"42"])
def test_signed_vendor_intake_answers_422_for_a_body_that_is_no_object(client, connector, vendor, body):
    AlertSource.objects.create(slug=f"{vendor}-eu", name=vendor, source=vendor, secret=SECRET, service_account=connector)
    response = client.post(f"/api/v1/intake/{vendor}-eu/", body, content_type="application/json", **signed(body))
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert nothing_stored()


def test_text_with_nul_or_a_lone_surrogate_is_422_naming_the_field_and_nothing_is_stored(api, connector):
    client = api(connector, "alerts:write")
    single = client.post("/api/v1/alerts/", json.dumps(alert_payload(title="nul \x00 here")), content_type="application/json")
    alerts = [alert_payload(source_ref=f"S-{i}") for i in range(3)] + [alert_payload(description="\ud800")]
    bulk = client.post("/api/v1/alerts/bulk/", json.dumps({"alerts": alerts}), content_type="application/json")
    assert single.status_code == 422 and single.json()["errors"] == {"title": ["control characters are not allowed"]}
    assert bulk.status_code == 422 and bulk.json()["errors"] == {"alerts.3.description": ["control characters are not allowed"]}
    assert nothing_stored()


def test_the_schema_documents_422_for_alert_intake(client, db):
    schema = client.get("/api/v1/openapi.json").json()
    for path in ("/api/v1/alerts/", "/api/v1/alerts/bulk/", "/api/v1/alerts/sentinel/", "/api/v1/alerts/ocsf/"):
        refused = schema["paths"][path]["post"]["responses"]["422"]
        assert "control characters are not allowed" in refused["description"] and "application/problem+json" in refused["content"]


@pytest.fixture
def alerts_only_connector(admin):
    """A connector as seed_demo makes it: no team, only the add_alert permission."""
    from django.contrib.auth.models import Permission

    from cases.services.api_tokens import create_service_account

    account = create_service_account(by=admin, username="splunk-connector", teams=[])
    account.user_permissions.add(Permission.objects.get(content_type__app_label="cases", codename="add_alert"))
    return account


def test_a_connector_with_only_add_alert_holds_an_alerts_write_token_and_sends_alerts(api, admin, alerts_only_connector):
    from cases.services.api_tokens import create_token

    token, raw = create_token(user=alerts_only_connector, by=admin, name="Splunk", scopes=["alerts:write"])
    response = api(token=raw).post("/api/v1/alerts/", alert_payload())
    assert response.status_code == 201 and Alert.objects.get().received_by == alerts_only_connector


def test_a_connector_with_only_add_alert_gets_no_token_for_other_scopes(admin, alerts_only_connector):
    from cases.models.exceptions import ActionRefused
    from cases.services.api_tokens import create_token

    for scopes in (["alerts:read"], ["alerts:write", "cases:read"], ["cases:write"]):
        with pytest.raises(ActionRefused):
            create_token(user=alerts_only_connector, by=admin, name="Splunk", scopes=scopes)


def test_an_account_without_add_alert_or_a_team_gets_no_alerts_write_token(admin):
    from cases.models.exceptions import ActionRefused
    from cases.services.api_tokens import create_service_account, create_token

    account = create_service_account(by=admin, username="idle-connector", teams=[])
    with pytest.raises(ActionRefused):
        create_token(user=account, by=admin, name="Idle", scopes=["alerts:write"])
