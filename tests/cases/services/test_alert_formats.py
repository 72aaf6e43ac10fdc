"""Observables are normalised, vendor shapes map onto the IRT alert, and bad payloads are refused."""

import pytest

from cases.services.alert_formats import (
    AlertRejected,
    from_ocsf,
    from_sentinel,
    normalise_observable,
    tenant_of,
    validate_alert,
)
from tests.cases.alerts.samples import alert_payload, vendor_sample


# Each kind: (as a sensor wrote it, the one spelling IRT stores).
SPELLINGS = {
    "ip": [(" 203.0.113.7 ", "203.0.113.7"), ("2001:DB8:0:0::1", "2001:db8::1"), ("::ffff:192.0.2.1", "192.0.2.1")],
    "domain": [("Login.Contoso.EXAMPLE.", "login.contoso.example"), ("bücher.example", "xn--bcher-kva.example")],
    "url": [
        ("HTTPS://Evil.Example:443/Path?q=1#frag", "https://evil.example/Path?q=1"),
        ("http://EVIL.example:8080", "http://evil.example:8080/"),
    ],
    "file_hash": [("D41D8CD98F00B204E9800998ECF8427E", "d41d8cd98f00b204e9800998ecf8427e")],
    "email": [("Alice@Contoso.Example", "alice@contoso.example")],
    "user_account": [("CONTOSO\\Alice", "contoso\\alice")],
    "cloud_resource": [
        ("/subscriptions/ABC/resourceGroups/RG", "/subscriptions/abc/resourcegroups/rg"),
        ("arn:aws:s3:::MyBucket", "arn:aws:s3:::MyBucket"),
    ],
}


@pytest.mark.parametrize(("kind", "value", "expected"), [
    (kind, value, expected) for kind, pairs in SPELLINGS.items() for value, expected in pairs
])
def test_observables_are_normalised_to_one_spelling(kind, value, expected):
    assert normalise_observable(kind, value) == expected


@pytest.mark.parametrize(("kind", "value"), [
    ("ip", "300.1.1.1"), ("domain", "not a domain"), ("domain", "localhost"), ("url", "/relative/only"),
    ("file_hash", "abc123"), ("file_hash", "z" * 64), ("email", "not-an-address"),
])
def test_malformed_observables_are_refused(kind, value):
    with pytest.raises(ValueError):
        normalise_observable(kind, value)


@pytest.mark.parametrize(("resource", "tenant"), [
    ("/subscriptions/8F2E6C1A-44B7/resourceGroups/x", "8f2e6c1a-44b7"),
    ("arn:aws:iam::210987654321:root", "210987654321"),
    ("//compute.googleapis.com/projects/contoso-prod/zones/z/instances/i", "contoso-prod"),
    ("5c1d3e2f-0a9b-4c8d-9e7f-6a5b4c3d2e1f", "5c1d3e2f-0a9b-4c8d-9e7f-6a5b4c3d2e1f"),
    ("arn:aws:s3:::bucket-without-account", ""),
])
def test_tenant_is_derived_from_the_resource_id(resource, tenant):
    assert tenant_of(resource) == tenant


@pytest.mark.parametrize(("mapper", "sample", "expected"), [
    (from_sentinel, "sentinel_incident_logic_app.json", {
        "source": "sentinel", "source_ref": "7e4b2d1c-90aa-4f3e-8c1b-5d6e7f809a1b",
        "title": "Mass download from a storage account by a new IP", "severity": "high",
        "observed_at": "2026-03-02T08:14:05.123000+00:00",
    }),
    (from_ocsf, "ocsf_detection_finding.json", {
        "source": "ocsf", "source_ref": "finding-2026-03-02-000417",
        "title": "Root user disabled S3 Block Public Access", "severity": "critical",
        "observed_at": "2026-03-02T08:35:00+00:00", "correlation_key": "root-usage-fabrikam-2026-03-02",
    }),
], ids=["sentinel", "ocsf"])
def test_vendor_payload_maps_onto_the_alert_fields(mapper, sample, expected):
    data = validate_alert(mapper(vendor_sample(sample)))
    mapped = {name: getattr(data, name) for name in expected}
    mapped["observed_at"] = data.observed_at.isoformat()
    assert mapped == expected


def test_sentinel_incident_keeps_tactics_entities_and_the_payload():
    data = validate_alert(from_sentinel(vendor_sample("sentinel_incident_logic_app.json")))
    assert "Tactics: Collection, Exfiltration" in data.description
    assert ("ip", "203.0.113.77") in data.observables
    assert ("user_account", "backup-sync@contoso.onmicrosoft.com") in data.observables
    assert ("file_hash", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08") in data.observables
    assert ("url", "https://contosoexports.blob.core.windows.net/exports?comp=list") in data.observables
    assert [tenant for _, tenant in data.resources] == ["8f2e6c1a-44b7-4d3a-9c55-abcdef012345"]
    assert data.raw["object"]["properties"]["incidentNumber"] == 48213


def test_sentinel_incident_without_logic_app_envelope_is_accepted():
    sample = vendor_sample("sentinel_incident_logic_app.json")["object"]
    assert validate_alert(from_sentinel(sample)).source_ref == sample["name"]


def test_sentinel_informational_severity_becomes_low():
    sample = vendor_sample("sentinel_incident_logic_app.json")
    sample["object"]["properties"]["severity"] = "Informational"
    assert validate_alert(from_sentinel(sample)).severity == "low"


def test_ocsf_detection_finding_keeps_its_observables_and_the_cloud_account():
    data = validate_alert(from_ocsf(vendor_sample("ocsf_detection_finding.json")))
    assert set(data.observables) == {("ip", "198.51.100.23"), ("user_account", "root"), ("domain", "exit-7.proxy.example.net")}
    assert {tenant for _, tenant in data.resources} == {"210987654321"}


def test_ocsf_other_classes_are_refused():
    sample = vendor_sample("ocsf_detection_finding.json")
    sample["class_uid"] = 2001
    with pytest.raises(AlertRejected) as refused:
        from_ocsf(sample)
    assert "class_uid" in refused.value.errors


@pytest.mark.parametrize(("overrides", "field"), [
    ({"severity": "catastrophic"}, "severity"),
    ({"severity": 3}, "severity"),
    ({"source": "nagios"}, "source"),
    ({"source_ref": ""}, "source_ref"),
    ({"title": ["not", "a", "string"]}, "title"),
    ({"title": "Bell\x07 in the title"}, "title"),
    ({"title": "NUL\x00"}, "title"),
    ({"description": "x" * (10 * 1024 * 1024)}, "description"),
    ({"description": "lone surrogate \ud800"}, "description"),
    ({"observed_at": "yesterday"}, "observed_at"),
    ({"observed_at": "2026-03-02T08:00:00"}, "observed_at"),
    ({"observed_at": 1772440500}, "observed_at"),
    ({"observables": [{"kind": "ip", "value": f"10.0.{i // 256}.{i % 256}"} for i in range(10_000)]}, "observables"),
    ({"observables": "203.0.113.1"}, "observables"),
    ({"observables": [{"kind": "ip", "value": "nope"}]}, "observables.0.value"),
    ({"observables": [{"kind": "mac", "value": "00:11"}]}, "observables.0.kind"),
    ({"resources": [{"id": "x", "owner": "y"}]}, "resources.0"),
    ({"raw": {"k": "nul\x00"}}, "raw"),
    ({"unexpected": 1}, "_unknown"),
])
def test_bad_alert_payloads_are_refused_with_the_field_named(overrides, field):
    with pytest.raises(AlertRejected) as refused:
        validate_alert(alert_payload(**overrides))
    assert field in refused.value.errors, refused.value.errors


def test_description_keeps_line_breaks_and_tabs():
    assert validate_alert(alert_payload(description="line one\n\tline two")).description == "line one\n\tline two"


def test_raw_over_the_limit_is_left_out_but_its_size_is_kept(settings):
    settings.IRT_ALERT_RAW_MAX_BYTES = 100
    data = validate_alert(alert_payload(raw={"blob": "x" * 500}))
    assert data.raw is None and data.raw_size > 500


@pytest.mark.parametrize("odd", [{}, [], ["high"], 3, None])
def test_a_choice_that_is_no_string_is_refused_by_name(odd):
    """Found by schemathesis: an object where a choice belongs must be a 422 naming the field, never a 500."""
    payload = alert_payload()
    payload.update(source=odd, severity=odd, observables=[{"kind": odd, "value": "203.0.113.7"}])
    with pytest.raises(AlertRejected) as refused:
        validate_alert(payload)
    assert {"source", "severity", "observables.0.kind"} <= set(refused.value.errors)


def test_control_characters_and_surrogates_are_refused_and_line_breaks_kept_in_text():
    for text, expected in [("a\x1fb", "U+001F"), ("a\x85b", "U+0085"), ("a\ud800b", "unpaired surrogate")]:
        with pytest.raises(AlertRejected, match=expected.replace("+", r"\+")):
            validate_alert({**alert_payload(), "title": text})
    assert validate_alert({**alert_payload(), "description": "line one\r\n\tline two"}).description == "line one\r\n\tline two"
    with pytest.raises(AlertRejected, match=r"U\+0007"):
        validate_alert({**alert_payload(), "description": "bell\x07"})
