"""An organisation's private Atom and JSON feeds (issue 16, item 3): its token, valid Atom, ETags, the portal's privacy."""

from datetime import UTC, timedelta, timezone

import feedparser
import pytest
from django.urls import reverse
from django.utils import timezone as django_timezone

from cases.models import Case
from cases.services import communications, customer_admin
from tests.factories import AffectedCustomerFactory, CustomerUserFactory, case_in_stage

CONTOSO_IMPACT = "CONTOSO-ONLY: three objects in contoso-reports were read."
FABRIKAM_IMPACT = "FABRIKAM-ONLY: invoice rows were altered."
CEST = timezone(timedelta(hours=2))


def minute(moment):
    return moment.replace(second=0, microsecond=0)


def publish_times(case, *, by, approver, title="Times stated", **times):
    """Publish an update of ``case`` that states ``times``; return it."""
    update = communications.draft_update(case=case, by=by, public_title=title, what_happened="Reads stopped.", **times)
    return communications.approve_update(update=update, by=approver)


@pytest.fixture
def shared_incident(manager, comms, contoso, fabrikam):
    case = case_in_stage(Case.Status.STABILIZING, manager=manager, internal_summary="INTERNAL: key AKIA-SECRET used")
    AffectedCustomerFactory(case=case, by=manager, organization=contoso, impact_statement=CONTOSO_IMPACT)
    AffectedCustomerFactory(case=case, by=manager, organization=fabrikam, impact_statement=FABRIKAM_IMPACT)
    update = communications.draft_update(case=case, by=manager, public_title="Bucket listing exposure",
                                         what_happened="Listings were readable by another account.")
    communications.approve_update(update=update, by=comms)
    return case


@pytest.fixture
def token(contoso):
    return customer_admin.rotate_feed_token(by=CustomerUserFactory(organization=contoso, is_customer_admin=True))


def bearer(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_atom_feed_is_valid_atom_with_only_the_organisations_incidents(client, shared_incident, token, settings):
    response = client.get(reverse("portal:feed-atom"), **bearer(token))
    assert response.status_code == 200 and response["Content-Type"].startswith("application/atom+xml")
    assert "private" in response["Cache-Control"] and "public" not in response["Cache-Control"]
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10" and parsed.feed.id and parsed.feed.updated
    assert parsed.feed.author_detail.name == "Security Incident Response Team"
    [entry] = parsed.entries
    assert entry.title == f"{shared_incident.reference}: Bucket listing exposure (Investigating)"
    assert entry.link == f"{settings.IRT_SITE_URL}/portal/incidents/{shared_incident.reference}/"
    assert entry.updated_parsed >= entry.published_parsed
    body = response.content.decode()
    for secret in ("FABRIKAM", "Fabrikam", "INTERNAL", "AKIA"):
        assert secret not in body


def test_json_feed_has_own_impact_only(client, shared_incident, token):
    data = client.get(reverse("portal:feed-json") + f"?token={token}").json()
    [incident] = data["incidents"]
    assert data["organization"] == "contoso" and incident["reference"] == shared_incident.reference
    assert incident["impact"]["statement"] == CONTOSO_IMPACT
    assert incident["updates"][0]["title"] == "Bucket listing exposure"
    text = str(data)
    assert "FABRIKAM" not in text and "INTERNAL" not in text


def test_an_incident_the_portal_hides_is_not_in_the_feed(client, manager, comms, contoso, token):
    case = case_in_stage(Case.Status.STABILIZING, manager=manager)
    AffectedCustomerFactory(case=case, by=manager, organization=contoso, confirm=False)  # unconfirmed: no page
    update = communications.draft_update(case=case, by=manager, public_title="Not yet yours", what_happened="x")
    communications.approve_update(update=update, by=comms)
    assert client.get(reverse("portal:feed-json"), **bearer(token)).json()["incidents"] == []


def test_etag_answers_304_until_something_customer_visible_changes(client, shared_incident, token, manager, comms):
    url = reverse("portal:feed-atom")
    etag = client.get(url, **bearer(token))["ETag"]
    assert client.get(url, HTTP_IF_NONE_MATCH=etag, **bearer(token)).status_code == 304
    update = communications.draft_update(case=shared_incident, by=manager, public_title="Fixed", what_happened="Rolled back.")
    communications.approve_update(update=update, by=comms)
    fresh = client.get(url, HTTP_IF_NONE_MATCH=etag, **bearer(token))
    assert fresh.status_code == 200 and fresh["ETag"] != etag
    assert client.get(reverse("portal:feed-json"), **bearer(token))["ETag"] != fresh["ETag"]


@pytest.mark.parametrize("name", ["portal:feed-atom", "portal:feed-json"])
def test_no_wrong_or_rotated_token_reads_the_feed(client, contoso, shared_incident, token, name):
    url = reverse(name)
    assert client.get(url).status_code == 404
    assert client.get(url, **bearer("irtfeed_guess")).status_code == 404
    assert client.get(url, **bearer(token[:-1])).status_code == 404
    customer_admin.rotate_feed_token(by=CustomerUserFactory(organization=contoso, is_customer_admin=True))
    assert client.get(url, **bearer(token)).status_code == 404
    assert client.post(url, **bearer(token)).status_code == 405


def test_json_feed_gives_each_updates_times_in_utc_and_null_when_unset(client, shared_incident, token, manager, comms):
    now = minute(django_timezone.now())
    started, detected, next_by = now - timedelta(hours=5), now - timedelta(hours=4), now + timedelta(days=1)
    publish_times(shared_incident, by=manager, approver=comms, impact_started_at=started.astimezone(CEST),
                  detected_at=detected, next_update_by=next_by)
    [incident] = client.get(reverse("portal:feed-json"), **bearer(token)).json()["incidents"]
    newest, first = incident["updates"]
    assert newest["impact_started_at"] == started.astimezone(UTC).isoformat() and newest["impact_started_at"].endswith("+00:00")
    assert newest["detected_at"] == detected.isoformat() and newest["next_update_by"] == next_by.isoformat()
    assert newest["impact_ended_at"] is None
    assert {first[name] for name in ("impact_started_at", "detected_at", "impact_ended_at", "next_update_by")} == {None}


def test_atom_entry_states_the_updates_times_in_one_readable_line(client, shared_incident, token, manager, comms):
    now = minute(django_timezone.now())
    started, ended = now - timedelta(hours=5), now - timedelta(hours=1)
    publish_times(shared_incident, by=manager, approver=comms, impact_started_at=started, impact_ended_at=ended)
    publish_times(shared_incident, by=manager, approver=comms, title="Ongoing", impact_started_at=started)
    parsed = feedparser.parse(client.get(reverse("portal:feed-atom"), **bearer(token)).content)
    ongoing, ended_entry, untimed = (entry.summary for entry in parsed.entries)
    assert f"Impact started (UTC): {started:%Y-%m-%d %H:%M} · Impact ended (UTC): ongoing" in ongoing
    assert f"Impact ended (UTC): {ended:%Y-%m-%d %H:%M}" in ended_entry
    assert "(UTC)" not in untimed


def test_contosos_feeds_never_show_fabrikams_impact_or_its_incidents_times(client, manager, comms, contoso, fabrikam, token):
    contoso_case = case_in_stage(Case.Status.STABILIZING, manager=manager)
    AffectedCustomerFactory(case=contoso_case, by=manager, organization=contoso, impact_statement=CONTOSO_IMPACT)
    AffectedCustomerFactory(case=contoso_case, by=manager, organization=fabrikam, impact_statement=FABRIKAM_IMPACT)
    fabrikam_case = case_in_stage(Case.Status.STABILIZING, manager=manager)
    AffectedCustomerFactory(case=fabrikam_case, by=manager, organization=fabrikam, impact_statement=FABRIKAM_IMPACT)
    fabrikam_started = minute(django_timezone.now()) - timedelta(days=3, minutes=17)
    publish_times(fabrikam_case, by=manager, approver=comms, title="FABRIKAM-INCIDENT", impact_started_at=fabrikam_started)
    publish_times(contoso_case, by=manager, approver=comms, impact_started_at=minute(django_timezone.now()) - timedelta(hours=2))
    data = client.get(reverse("portal:feed-json"), **bearer(token)).json()
    atom = client.get(reverse("portal:feed-atom"), **bearer(token)).content.decode()
    assert [incident["reference"] for incident in data["incidents"]] == [contoso_case.reference]
    assert data["incidents"][0]["impact"]["statement"] == CONTOSO_IMPACT
    for body in (str(data), atom):
        assert "FABRIKAM" not in body and fabrikam_case.reference not in body
        assert fabrikam_started.isoformat() not in body and f"{fabrikam_started:%Y-%m-%d %H:%M}" not in body
