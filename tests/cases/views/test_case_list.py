"""The case list: open cases by default, filters that combine, sortable columns, and managers' bulk actions."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from cases.models import Case, TimelineEvent
from cases.services import cases as case_services
from tests.factories import CaseFactory, TimelineEventFactory, case_in_stage

LIST = reverse("cases:list")
BULK = reverse("cases:bulk")


def listed(client, user, **query) -> list[str]:
    client.force_login(user)
    response = client.get(LIST, query)
    assert response.status_code == 200
    return [case.reference for case in response.context["page"].object_list]


def test_the_list_opens_on_open_cases_and_any_stage_shows_the_rest(client, manager):
    open_case = CaseFactory(by=manager)
    closed = case_in_stage(Case.Status.CLOSED, manager=manager)
    dismissed = case_in_stage(Case.Status.DISMISSED, manager=manager)

    assert listed(client, manager) == [open_case.reference]
    assert set(listed(client, manager, stage="")) == {open_case.reference, closed.reference, dismissed.reference}
    assert listed(client, manager, stage="closed") == [closed.reference]
    assert "open cases only" in client.get(LIST).content.decode()


def test_filters_combine(client, manager, responder):
    match = CaseFactory(by=manager, severity="high")
    CaseFactory(by=manager, severity="high", owner=responder)  # owned
    CaseFactory(by=manager, severity="low")  # less severe
    breached = case_in_stage(Case.Status.DIAGNOSING, manager=manager)
    Case.objects.filter(pk=breached.pk).update(breach_declared_at=timezone.now(), owner=None)

    assert listed(client, manager, severity="high", owner="none", breach="no") == [match.reference]
    assert listed(client, manager, severity="high", owner="none", breach="yes") == [breached.reference]


def test_mine_means_owned_or_member(client, manager, responder):
    owned = CaseFactory(by=manager, owner=responder)
    member = CaseFactory(by=manager)
    case_services.add_member(case=member, by=manager, user=responder)
    CaseFactory(by=manager)

    assert set(listed(client, responder, owner="mine")) == {owned.reference, member.reference}
    assert listed(client, responder, owner="me") == [owned.reference]


def test_the_search_box_of_the_list_searches_everything_within_the_filters(client, manager):
    noted = CaseFactory(by=manager, severity="high")
    TimelineEventFactory(case=noted, actor=manager, text="The quokka account was disabled.")
    closed = case_in_stage(Case.Status.CLOSED, manager=manager, title="Quokka again")

    assert listed(client, manager, q="quokka") == [noted.reference]
    assert set(listed(client, manager, q="quokka", stage="")) == {noted.reference, closed.reference}
    assert listed(client, manager, q="quokka", severity="low") == []


def test_columns_sort_both_ways_and_say_so(client, manager):
    low = CaseFactory(by=manager, severity="low", title="A low one")
    critical = CaseFactory(by=manager, severity="critical", title="B critical one")
    high = CaseFactory(by=manager, severity="high", title="C high one")
    Case.objects.filter(pk=critical.pk).update(detected_at=timezone.now() - timedelta(days=2))

    assert listed(client, manager, sort="severity") == [critical.reference, high.reference, low.reference]
    assert listed(client, manager, sort="-severity") == [low.reference, high.reference, critical.reference]
    assert listed(client, manager, sort="title") == [low.reference, critical.reference, high.reference]
    assert listed(client, manager)[-1] == critical.reference  # newest first by default
    columns = {c["label"]: c for c in client.get(LIST, {"sort": "severity", "severity": ""}).context["columns"]}
    assert columns["Severity"]["aria_sort"] == "ascending" and "sort=-severity" in columns["Severity"]["href"]
    assert columns["Title"]["aria_sort"] == "none" and "sort=title" in columns["Title"]["href"]
    assert "severity=" in columns["Title"]["href"]  # the filters stay
    assert client.get(LIST, {"sort": "sideways"}).status_code == 200


def _bulk(client, user, action, person, cases, next_query="stage=open&severity=high"):
    client.force_login(user)
    return client.post(BULK, {"action": action, "user": person.pk, "cases": [c.reference for c in cases], "next": next_query})


def test_a_manager_assigns_an_owner_to_several_cases_each_with_its_timeline_row(client, manager, responder):
    cases = [CaseFactory(by=manager) for _ in range(3)]

    response = _bulk(client, manager, "assign_owner", responder, cases)

    assert response.status_code == 302 and response["Location"] == f"{LIST}?stage=open&severity=high"
    for case in cases:
        case.refresh_from_db()
        assert case.owner == responder
        assert case.timeline.filter(kind=TimelineEvent.Kind.OWNER_CHANGED, actor=manager).count() == 1
    [message] = [str(m) for m in get_messages(response.wsgi_request)]
    assert all(case.reference in message for case in cases)


def test_bulk_add_member_reports_each_case_it_could_not_do(client, manager, responder):
    fresh = CaseFactory(by=manager)
    already = CaseFactory(by=manager)
    case_services.add_member(case=already, by=manager, user=responder)

    response = _bulk(client, manager, "add_member", responder, [fresh, already])

    messages = [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]
    assert ("success", f"Responder: member added on {fresh.reference}.") in messages
    assert ("error", f"Not done on {already.reference}: Responder is already a member.") in messages
    assert responder.pk in Case.objects.get(pk=fresh.pk).member_ids()


def test_bulk_owner_who_may_not_own_is_refused_per_case_and_changes_nothing(client, manager, comms):
    cases = [CaseFactory(by=manager) for _ in range(2)]

    response = _bulk(client, manager, "assign_owner", comms, cases)

    [(level, text)] = [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]
    assert level == "error" and text.startswith(f"Not done on {cases[0].reference}, {cases[1].reference}: ")
    assert "cannot own a case" in text
    assert not Case.objects.filter(pk__in=[c.pk for c in cases], owner__isnull=False).exists()


def test_bulk_on_a_case_the_manager_may_not_know_changes_nothing(client, manager, second_manager, responder):
    secret = CaseFactory(by=responder, restricted=True)
    visible = CaseFactory(by=manager)

    response = _bulk(client, second_manager, "assign_owner", responder, [visible, secret])

    assert response.status_code == 302
    assert [m.level_tag for m in get_messages(response.wsgi_request)] == ["error"]
    assert not Case.objects.filter(owner=responder).exists()


@pytest.mark.parametrize("role", ["responder", "comms"])
def test_only_managers_act_in_bulk(client, manager, role, request):
    case = CaseFactory(by=manager)
    user = request.getfixturevalue(role)
    case_services.add_member(case=case, by=manager, user=user) if role == "responder" else None

    assert _bulk(client, user, "assign_owner", user, [case]).status_code == 403
    assert client.get(LIST).context["bulk_form"] is None
    case.refresh_from_db()
    assert case.owner is None


def test_bulk_is_post_only_and_never_redirects_elsewhere(client, manager, responder):
    case = CaseFactory(by=manager)
    client.force_login(manager)
    assert client.get(BULK).status_code == 405
    response = _bulk(client, manager, "assign_owner", responder, [case], next_query="https://evil.example/")
    assert response["Location"].startswith(f"{LIST}?")
    assert "evil.example" not in response["Location"].split("?")[0]
