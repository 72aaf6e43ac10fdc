"""The staff case list kept per reader and version (issue 18): never stale, never another reader's.

The list is kept under a key naming the reader and everything their rights come from, the query
string, the total and the page's position, every listed row as read (each shown column, its
``version`` and ``timeline_head``, its owner's names) and the stamp of the people the page names
(cases.views.case_list.case_list). Here: every change a service makes to what the list shows is on
the very next GET after the list was kept; no reader ever receives another's list; access is
decided on every request; messages and the CSRF token are never kept.
"""

import re
from dataclasses import dataclass, field
from datetime import timedelta
from types import SimpleNamespace

import pytest
import time_machine
from django.contrib.auth.models import Group, Permission
from django.middleware.csrf import _unmask_cipher_token
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cases.models import Case
from cases.services import breach, lifecycle
from cases.services import cases as case_services
from tests.cases.views.test_case_page_kept import Change as PageChange
from tests.cases.views.test_case_page_kept import assert_change_shown
from tests.factories import AffectedCustomerFactory, CaseFactory, ServiceFactory, StaffFactory

pytestmark = pytest.mark.django_db

LIST = reverse("cases:list")
BULK = reverse("cases:bulk")


def reader(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def kept_list(client, query=None) -> str:
    """GET the list twice (rendered and kept unless it already was, then from the kept copy) and return the second."""
    first = client.get(LIST, query or {})
    second = client.get(LIST, query or {})
    assert first.status_code == second.status_code == 200
    assert not second.templates, "the second GET must be served from the kept copy: no template rendered"
    return second.content.decode()


def table(page: str) -> str:
    """Return the table's rows, or "" when no case matches."""
    found = re.search(r"<tbody>.*?</tbody>", page, re.S)
    return found.group(0) if found else ""


def bulk_picker(page: str) -> str:
    found = re.search(r'<select name="user"[^>]*id="bulk_user".*?</select>', page, re.S)
    return found.group(0) if found else ""


def row_of(page: str, reference: str) -> str:
    found = re.search(rf'<tr>\s*<td><input type="checkbox" name="cases" value="{reference}".*?</tr>', page, re.S)
    return found.group(0) if found else ""


@pytest.fixture
def world(manager, second_manager, responder, other_responder, comms, contoso):
    return listed_world(manager, second_manager, responder, other_responder, comms, contoso)


def listed_world(manager, second_manager, responder, other_responder, comms, contoso) -> SimpleNamespace:
    """An open case (detected, not assessed) owned by a manager with a member responder."""
    case = CaseFactory(by=manager, owner=manager, title="LISTED-CASE")
    case_services.add_member(case=case, by=manager, user=responder)
    return SimpleNamespace(case=case, manager=manager, second_manager=second_manager, responder=responder,
                           other_responder=other_responder, comms=comms, contoso=contoso)


def fresh(w) -> Case:
    return Case.objects.get(pk=w.case.pk)


def with_customer(w):
    """A diagnosing case (a breach is declared only then) and a confirmed affected organisation."""
    lifecycle.start_assessment(case=fresh(w), by=w.manager)
    case_services.update_case_details(case=fresh(w), by=w.manager, changes={"severity": "high", "scope": "provider"},
                                      services=[ServiceFactory(name="Object Storage")])
    lifecycle.start_diagnosis(case=fresh(w), by=w.manager)
    AffectedCustomerFactory(case=w.case, by=w.manager, organization=w.contoso, impact_statement="Buckets read.",
                            confirm=True, confirmed_by=w.comms)


def with_candidate(w):
    w.candidate = StaffFactory(first_name="Newly", last_name="Added")


def renamed(user, first_name):
    user.first_name = first_name
    user.save()


# -- the changes: each through its service; each returns (where: "table", "row", "picker" or "page"; text now shown) ----


@dataclass
class Change(PageChange):
    who: str = "manager"  # the reader, a name on the world
    query: dict = field(default_factory=dict)


def _in(where, text):
    return where, text


CHANGES = [
    Change("title", lambda w: (case_services.update_case_details(case=fresh(w), by=w.manager, changes={"title": "TITLE-CHANGED"}),
                               _in("row", "<td>TITLE-CHANGED "))[1]),
    Change("severity", lambda w: (case_services.update_case_details(case=fresh(w), by=w.manager, changes={"severity": "critical"}),
                                  _in("row", 'class="badge sev-critical"'))[1]),
    Change("restricted", lambda w: (case_services.update_case_details(case=fresh(w), by=w.manager, changes={"restricted": True}),
                                    _in("row", '<span class="badge restricted">Restricted</span>'))[1]),
    Change("stage", lambda w: (lifecycle.start_assessment(case=fresh(w), by=w.manager),
                               _in("row", '<span class="badge status-assessing">Assessing</span>'))[1]),
    Change("owner assigned", lambda w: (case_services.assign_owner(case=fresh(w), by=w.manager, owner=w.responder),
                                        _in("row", f"<td>{w.responder.display_name}</td>"))[1]),
    Change("owner cleared", lambda w: (case_services.assign_owner(case=fresh(w), by=w.manager, owner=None),
                                       _in("row", f"<td>{w.manager.display_name}</td>"))[1], shown=False),
    Change("breach declared", lambda w: (breach.declare_breach(case=fresh(w), by=w.manager, note="Reads confirmed."),
                                         _in("row", '<span class="badge breach">Breach</span>'))[1], setup=with_customer),
    Change("owner renamed", lambda w: (renamed(w.manager, "RENAMED"), _in("row", "<td>RENAMED</td>"))[1]),
    Change("case opened", lambda w: (CaseFactory(by=w.manager, title="CASE-OPENED"), _in("table", "CASE-OPENED"))[1]),
    Change("case opened (the total)", lambda w: (CaseFactory(by=w.manager), _in("page", "2 cases you can see match"))[1]),
    Change("case dismissed", lambda w: (lifecycle.dismiss_case(case=fresh(w), by=w.manager, reason=Case.DismissalReason.FALSE_POSITIVE,
                                                               note="Benign."), _in("page", "LISTED-CASE"))[1], shown=False),
    Change("case dismissed (any stage)", lambda w: (
        lifecycle.dismiss_case(case=fresh(w), by=w.manager, reason=Case.DismissalReason.FALSE_POSITIVE, note="Benign."),
        _in("row", '<span class="badge status-dismissed">Dismissed</span>'))[1], query={"stage": ""}),
    Change("staff member joins (the bulk picker)", lambda w: (with_candidate(w), _in("picker", "Newly Added"))[1]),
    Change("staff member leaves the team (the bulk picker)", lambda w: (
        w.responder.groups.clear(), _in("picker", f">{w.responder.display_name}</option>"))[1], shown=False),
    Change("staff member renamed (the bulk picker)", lambda w: (renamed(w.comms, "RENAMED"), _in("picker", ">RENAMED</option>"))[1]),
    # Readers' own views of the same data.
    Change("member added (mine)", lambda w: (case_services.add_member(case=fresh(w), by=w.manager, user=w.other_responder),
                                             _in("table", "LISTED-CASE"))[1], who="other_responder", query={"owner": "mine"}),
    Change("member removed from a restricted case", lambda w: (
        case_services.remove_member(case=fresh(w), by=w.manager, user=w.responder), _in("table", "LISTED-CASE"))[1],
        setup=lambda w: case_services.update_case_details(case=fresh(w), by=w.manager, changes={"restricted": True}),
        who="responder", shown=False),
    Change("manager added to a restricted case they did not see", lambda w: (
        case_services.add_member(case=fresh(w), by=w.manager, user=w.second_manager), _in("table", "LISTED-CASE"))[1],
        setup=lambda w: case_services.update_case_details(case=fresh(w), by=w.manager, changes={"restricted": True}),
        who="second_manager"),
]


def _part(page: str, where: str, w) -> str:
    return {"page": page, "table": table(page), "row": row_of(page, w.case.reference), "picker": bulk_picker(page)}[where]


@pytest.mark.parametrize("item", CHANGES, ids=[item.name for item in CHANGES])
def test_every_change_through_its_service_is_on_the_next_request(world, item):
    if item.setup:
        item.setup(world)
    who = getattr(world, item.who)
    client = reader(who)
    before = kept_list(client, item.query)
    where, text = item.change(world)
    who.refresh_from_db()
    page = client.get(LIST, item.query).content.decode()
    if where == "row" and who.has_perm("cases.manage_case"):
        assert row_of(before, world.case.reference), "the case's row must be on the kept list"
    assert_change_shown(item, text, _part(before, where, world), _part(page, where, world))


def test_a_case_on_another_page_moves_the_position_of_this_one(world, monkeypatch):
    """Page 1's rows stay the same; only the total and the number of pages change."""
    monkeypatch.setattr("cases.views.case_list.PAGE_SIZE", 1)
    client = reader(world.manager)
    assert "Page 1 of 1" in kept_list(client)
    CaseFactory(by=world.manager, detected_at=timezone.now() - timedelta(days=3))
    page = client.get(LIST).content.decode()
    assert "Page 1 of 2" in page and "2 cases you can see match" in page
    assert table(page) == table(kept_list(client))


# -- readers ---------------------------------------------------------------------------------------------------------------


def test_another_reader_never_receives_the_first_one_s_kept_list(world):
    """Managers get the bulk form; a responder and comms do not; a restricted case is on its members' lists only."""
    secret = CaseFactory(by=world.manager, title="SECRET-CASE", restricted=True)
    case_services.add_member(case=secret, by=world.manager, user=world.responder)
    pages = {who: kept_list(reader(getattr(world, who))) for who in ("manager", "second_manager", "responder",
                                                                      "other_responder", "comms")}
    assert 'id="bulk-form"' in pages["manager"] and 'id="bulk-form"' in pages["second_manager"]
    assert not any('id="bulk-form"' in pages[who] for who in ("responder", "other_responder", "comms"))
    assert {who for who, page in pages.items() if "SECRET-CASE" in page} == {"manager", "responder"}
    assert 'href="/cases/new/"' in pages["responder"] and 'class="btn primary" href="/cases/new/"' not in pages["comms"]
    for who, page in pages.items():
        user = getattr(world, who)
        assert f'<span>{user.get_full_name() or user.username} <span class="role">' in page


def test_the_same_rows_for_two_readers_are_two_kept_lists(world, responder):
    """Two managers with the same rights see the same rows, each with their own name in the navigation."""
    first, second = kept_list(reader(world.manager)), kept_list(reader(world.second_manager))
    assert table(first) == table(second)
    assert world.manager.display_name in first and f"<span>{world.second_manager.display_name} " in second
    assert f"<span>{world.manager.display_name} " not in second


def test_a_revoked_role_takes_effect_on_the_next_request(world):
    client = reader(world.second_manager)
    assert 'id="bulk-form"' in kept_list(client)
    world.second_manager.groups.set([Group.objects.get(name="Communications")])
    page = client.get(LIST)
    assert page.status_code == 200 and b'id="bulk-form"' not in page.content
    world.second_manager.groups.clear()
    assert client.get(LIST).status_code == 403


def test_a_right_lost_without_a_change_of_role_takes_effect_on_the_next_request(world):
    """A manager who may no longer open cases is still a manager (the navigation says the same) but loses the button."""
    client = reader(world.second_manager)
    assert 'class="btn primary" href="/cases/new/"' in kept_list(client)
    managers_only = Group.objects.create(name="Managers who open nothing")
    managers_only.permissions.set(Permission.objects.filter(content_type__app_label="cases",
                                                            codename__in=["manage_case", "read_all_cases"]))
    world.second_manager.groups.set([managers_only])
    page = client.get(LIST).content.decode()
    assert '<span class="role">manager</span>' in page and 'id="bulk-form"' in page
    assert 'class="btn primary" href="/cases/new/"' not in page


def test_flash_messages_are_never_kept(world):
    client = reader(world.manager)
    kept_list(client)
    response = client.post(BULK, {"action": "add_member", "user": world.responder.pk, "cases": [world.case.reference],
                                  "next": ""}, follow=True)
    shown = response.content.decode()
    assert 'class="messages"' in shown and "is already a member" in shown
    assert 'class="messages"' not in client.get(LIST).content.decode()


def test_the_csrf_token_is_the_requester_s_own(world):
    def token(client, page: str) -> str:
        value = re.search(r'<form[^>]*id="bulk-form"[^>]*>\s*<input type="hidden" name="csrfmiddlewaretoken" value="([^"]+)"',
                          page).group(1)
        assert _unmask_cipher_token(value) == _unmask_cipher_token(client.cookies["csrftoken"].value) or \
            _unmask_cipher_token(value) == client.cookies["csrftoken"].value
        return value

    first, second = reader(world.manager, enforce_csrf_checks=True), reader(world.second_manager, enforce_csrf_checks=True)
    for client in (first, second):
        page = kept_list(client)
        assert "irt-kept-" not in page
        response = client.post(BULK, {"action": "assign_owner", "user": world.responder.pk, "cases": [world.case.reference],
                                      "next": "", "csrfmiddlewaretoken": token(client, page)})
        assert response.status_code == 302, "the kept list's token is accepted from its own requester"
    assert first.cookies["csrftoken"].value != second.cookies["csrftoken"].value


def test_a_refused_query_string_is_rendered_whole_and_never_kept(world):
    client = reader(world.manager)
    for _ in range(2):
        response = client.get(LIST, {"stage": "no-such-stage"})
        assert response.status_code == 200 and response.templates, "rendered each time, with the form's errors"
        assert "Select a valid choice" in response.content.decode()


def test_the_same_rows_under_another_query_string_show_that_query(world):
    """One case, sorted by title or not: the same rows, but the headings, the form and the bulk form's return differ."""
    client = reader(world.manager)
    plain = kept_list(client)
    by_title = kept_list(client, {"sort": "title"})
    assert table(plain) == table(by_title)
    heading = '<th aria-sort="ascending"><a href="?sort=-title">Title ▲</a></th>'
    assert heading in by_title and heading not in plain
    assert '<option value="title" selected>' in by_title and '<option value="title" selected>' not in plain


def test_every_query_string_is_its_own_kept_list(world):
    closed = CaseFactory(by=world.manager, title="DISMISSED-CASE")
    lifecycle.dismiss_case(case=closed, by=world.manager, reason=Case.DismissalReason.FALSE_POSITIVE, note="Benign.")
    client = reader(world.manager)
    assert "DISMISSED-CASE" not in kept_list(client)
    assert "DISMISSED-CASE" in kept_list(client, {"stage": ""})
    assert "DISMISSED-CASE" in kept_list(client, {"stage": "dismissed"})
    assert 'value="dismissed" selected' in kept_list(client, {"stage": "dismissed"})


# The kept list's own reads: the session and the user (the middleware's, with the second factor and the permissions);
# the page's total and its rows (one query on the first pages). Rendering it adds the bulk person picker (a manager) and
# the people's stamp. The total is kept too, until a row it counts changes (``kept_with_queue_data``): see the test after the next.
KEPT_LIST_QUERIES = {"manager": 2, "responder": 2}  # 5 before the session and the user were one query, 4 before the total, 3 before the rows came with the ids


@pytest.mark.parametrize("who", sorted(KEPT_LIST_QUERIES))
def test_the_kept_list_reads_what_decides_access_and_the_rows(world, who, django_assert_num_queries):
    client = reader(getattr(world, who))
    # Time stands still: the people's stamp, kept for two seconds in a process-local cache, must not expire meanwhile.
    with time_machine.travel(timezone.now(), tick=False):
        kept_list(client)
        with django_assert_num_queries(KEPT_LIST_QUERIES[who]):
            response = client.get(LIST)
    assert response.status_code == 200 and not response.templates


def test_the_kept_total_follows_every_case_and_every_membership_at_once(world, django_assert_num_queries):
    """The list's total is kept until something it counts changes: a case added or dismissed, a member added or removed."""
    from cases.selectors.cases import case_list_page

    responder, manager = world.responder, world.manager

    def total() -> int:
        return case_list_page(responder, filters={"stage": "open"}, number=1, per_page=50).paginator.count

    with time_machine.travel(timezone.now(), tick=False):  # the process-local cache keeps it two seconds
        before = total()
        with django_assert_num_queries(1):  # the page's rows, read whole: the total was kept
            assert total() == before
        hidden = CaseFactory(by=manager, owner=manager, restricted=True, title="HIDDEN-CASE")
        assert total() == before
        case_services.add_member(case=hidden, by=manager, user=responder)
        assert total() == before + 1
        case_services.remove_member(case=hidden, by=manager, user=responder)
        assert total() == before
        lifecycle.dismiss_case(case=fresh(world), by=manager, reason=Case.DismissalReason.FALSE_POSITIVE, note="Benign.")
        assert total() == before - 1
