"""Search: one box across cases and alert groups, through the access rules.

Runs on SQLite (substring matching) by default, and on PostgreSQL (full-text search) with
``DATABASE_URL=postgres://…``; the tests marked for one database skip on the other.
"""

import pytest
from django.db import connection
from django.urls import reverse

from cases.models import Case
from cases.services import cases as case_services
from cases.services.intake import ingest_alert
from cases.services.triage import promote_group
from tests.cases.alerts.samples import alert_payload
from tests.factories import AffectedCustomerFactory, CaseFactory, OrganizationFactory, TaskFactory, TimelineEventFactory, case_in_stage

SEARCH = reverse("cases:search")
postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="full-text search is PostgreSQL's")
sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="the substring fallback runs on SQLite")


def found(client, user, query: str) -> dict[str, list[str]]:
    """Return the references the user finds for ``query``, each with where it matched."""
    client.force_login(user)
    response = client.get(SEARCH, {"q": query})
    assert response.status_code == 200
    return {case.reference: where for case, where in response.context["results"]}


def _case_with(place: str, word: str, manager) -> Case:
    """Return a case where ``word`` appears in ``place`` only."""
    if place == "title":
        return CaseFactory(by=manager, owner=manager, title=f"Exfiltration via {word}")
    if place == "internal summary":
        return CaseFactory(by=manager, owner=manager, internal_summary=f"The attacker reused the {word} credentials.")
    case = case_in_stage(Case.Status.DIAGNOSING, manager=manager)
    if place == "notes":
        TimelineEventFactory(case=case, actor=manager, text=f"Spoke with the {word} team about the logs.")
    elif place == "tasks":
        TaskFactory(case=case, by=manager, title=f"Rotate the {word} keys")
    elif place == "affected organisations":
        AffectedCustomerFactory(case=case, by=manager, organization=OrganizationFactory(name=f"{word.capitalize()} Ltd"))
    return case


@pytest.mark.parametrize("place", ["title", "internal summary", "notes", "tasks", "affected organisations"])
def test_a_word_is_found_wherever_it_is_written(client, manager, place):
    case = _case_with(place, "quokka", manager)
    CaseFactory(by=manager, title="Unrelated phishing")

    assert found(client, manager, "quokka") == {case.reference: [place]}


def test_the_reference_finds_its_case(client, manager):
    case = CaseFactory(by=manager)
    CaseFactory(by=manager)
    assert found(client, manager, case.reference) == {case.reference: ["reference"]}


def test_observables_and_alerts_find_the_case_they_were_promoted_to_and_waiting_groups(client, responder):
    promoted, _ = ingest_alert(payload=alert_payload(title="Impossible travel for wombat admin",
                                                     observables=[{"kind": "ip", "value": "203.0.113.77"}]), by=responder)
    case = promote_group(group=promoted.group, by=responder, owner=responder)
    waiting, _ = ingest_alert(payload=alert_payload(source_ref="other", title="Beaconing to 203.0.113.77",
                                                    correlation_key="other-key",
                                                    observables=[{"kind": "domain", "value": "c2.example"}]), by=responder)

    assert found(client, responder, "203.0.113.77") == {case.reference: ["observables"]}
    assert found(client, responder, "wombat")[case.reference] == ["title", "internal summary", "alerts"]
    client.force_login(responder)
    groups = client.get(SEARCH, {"q": "203.0.113.77"}).context["groups"]
    assert {group.pk for group in groups} == {promoted.group_id, waiting.group_id}


def test_closed_cases_are_found_open_ones_first(client, manager):
    closed = case_in_stage(Case.Status.CLOSED, manager=manager, title="Quokka bucket, the first time")
    open_case = CaseFactory(by=manager, title="Quokka bucket again")

    assert list(found(client, manager, "quokka")) == [open_case.reference, closed.reference]


def test_a_restricted_case_is_found_only_by_those_who_may_know_it(client, manager, second_manager, responder, other_responder,
                                                                    comms, admin):
    secret = CaseFactory(by=responder, owner=responder, restricted=True, title="Insider quokka at the data centre")
    ingest_alert(payload=alert_payload(title="unrelated", observables=[{"kind": "ip", "value": "192.0.2.200"}]), by=responder)
    group, _ = ingest_alert(payload=alert_payload(source_ref="s", title="Quokka badge reader", correlation_key="k2",
                                                  observables=[{"kind": "ip", "value": "192.0.2.201"}]), by=responder)
    case_services.add_member(case=secret, by=responder, user=manager)
    from cases.services.triage import attach_group

    attach_group(group=group.group, case=secret, by=responder)

    for user in (responder, manager, admin):
        assert secret.reference in found(client, user, "quokka"), user
    for user in (second_manager, other_responder, comms):
        assert found(client, user, "quokka") == {}, user
        client.force_login(user)
        page = client.get(SEARCH, {"q": "quokka"})
        assert page.context["groups"] == [] and b"Quokka badge reader" not in page.content
        assert b"Insider quokka" not in page.content


def test_customers_and_strangers_never_reach_the_search(client, contoso_user):
    CaseFactory(title="Quokka incident")
    assert client.get(SEARCH, {"q": "quokka"})["Location"].startswith(reverse("login"))
    client.force_login(contoso_user)
    assert client.get(SEARCH, {"q": "quokka"})["Location"] == reverse("portal:index")


@pytest.mark.parametrize("query", ["", "   ", "\x00", "a" * 5000, "'; DROP TABLE cases_case; --", '"unbalanced', "-"])
def test_odd_queries_answer_a_page_not_an_error(client, manager, query):
    CaseFactory(by=manager, title="Quokka incident")
    client.force_login(manager)
    assert client.get(SEARCH, {"q": query}).status_code == 200


@sqlite_only
def test_on_sqlite_a_part_of_a_word_matches(client, manager):
    case = CaseFactory(by=manager, title="Public storage bucket")
    assert found(client, manager, "buck") == {case.reference: ["title"]}


@postgres_only
def test_on_postgresql_words_match_their_other_forms_and_phrases_work(client, manager):
    case = CaseFactory(by=manager, title="Public storage buckets were listed")
    other = CaseFactory(by=manager, title="Storage quota alarm")
    assert found(client, manager, "bucket listing") == {case.reference: ["title"]}
    assert set(found(client, manager, "storage -bucket")) == {other.reference}
    assert found(client, manager, '"buckets were listed"') == {case.reference: ["title"]}


@pytest.mark.parametrize("count", [3, 40])
def test_search_runs_a_fixed_number_of_queries(client, manager, count, django_assert_num_queries):
    for i in range(count):
        CaseFactory(by=manager, owner=manager, title=f"Quokka case {i}")
    client.force_login(manager)
    with django_assert_num_queries(SEARCH_QUERIES):
        response = client.get(SEARCH, {"q": "quokka"})
    assert response.context["page"].paginator.count == count


SEARCH_QUERIES = 5  # 6 before the session and the user were one query
