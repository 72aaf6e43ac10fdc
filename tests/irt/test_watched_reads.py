"""Slots of kept pages kept in each process until a table they read changes (irt/watched_reads.py).

These tests commit (``transaction=True``), as real requests do, so PostgreSQL's triggers notify and
the listener hears. "Another process" is this one with its own-write hook taken off the connection:
the change then reaches the kept slots only through the notification, as a worker's would.
"""

import re
from datetime import timedelta

import pytest
import time_machine
from django.db import connection, transaction
from django.middleware.csrf import _unmask_cipher_token
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases.models import Case, TimelineEvent
from cases.services import communications
from irt.cache import Generations
from irt.listening import listener
from irt.watched_reads import CHANNEL, WatchedReads, watched_reads
from notifications.models import Delivery
from notifications.services import subscriptions
from tests.cases.services.test_customer_questions import incident  # noqa: F401 - a fixture
from tests.factories import CaseFactory
from tests.cases.views.test_case_page_kept import (  # noqa: F401 - world is a fixture
    CHANGES, assert_change_shown, fresh, kept_page, reader, section, with_alert_group, with_sent_notice, world)
from tests.cases.views.test_case_list_kept import CHANGES as LIST_CHANGES
from tests.listening import settled, until

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the triggers and notifications are PostgreSQL's"),
]

# The tables the case page's slots read (irt.watched_reads records them; these are what a test looks for).
SLOT_TABLES = ("cases_alertgroup", "cases_caseobservable", "cases_acknowledgement", "notifications_delivery",
               "cases_affectedcustomer")


@pytest.fixture
def watching(settings):
    settings.IRT_WATCHED_READS = True
    watched_reads.forget_all()
    until(watched_reads.usable, "the listener is heard from")
    yield watched_reads
    listener.stop_listening()  # the test database cannot be dropped while the listener is connected to it


def changed_from(where: str, monkeypatch, change, *args):
    """Make ``change(*args)`` as this process would (its own writes forget what it kept; the notification is not
    heard for the rest of the test) or as another process would (only the notification tells this one), and return
    what it returns."""
    if where == "another process":
        connection.execute_wrappers.remove(watched_reads.forget_on_write)
        try:
            changed = change(*args)
        finally:
            connection.execute_wrappers.insert(0, watched_reads.forget_on_write)
        settled()
        return changed
    monkeypatch.setitem(listener._subscribers, CHANNEL, [])
    return change(*args)


def busy(w):
    """Alerts with an observable, a breach notice sent to Contoso (a dead delivery among them), Contoso's acknowledgement."""
    with_alert_group(w)
    with_sent_notice(w)
    communications.acknowledge(case=fresh(w), user=w.contoso_user)
    Delivery.objects.filter(notification__case=w.case, channel="email").update(status="dead")


def slot_queries(queries) -> list[str]:
    return [query["sql"] for query in queries if any(table in query["sql"] for table in SLOT_TABLES)]


def without_tokens(page: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page)


def test_the_slots_of_a_busy_case_are_kept_and_read_no_more(watching, world):
    busy(world)
    client = reader(world.manager)
    with CaptureQueriesContext(connection) as first:
        rendered = client.get(world.case.get_absolute_url()).content.decode()
    assert len(slot_queries(first.captured_queries)) >= 4
    assert "Acknowledged</span> by" in rendered and "seen in" not in rendered and "Retry" in rendered
    with CaptureQueriesContext(connection) as again:
        kept = client.get(world.case.get_absolute_url()).content.decode()
    assert slot_queries(again.captured_queries) == []
    assert without_tokens(kept) == without_tokens(rendered)


def test_switched_off_the_slots_are_rendered_on_every_request(watching, world, settings):
    busy(world)
    settings.IRT_WATCHED_READS = False
    client = reader(world.manager)
    client.get(world.case.get_absolute_url())
    with CaptureQueriesContext(connection) as again:
        client.get(world.case.get_absolute_url())
    assert len(slot_queries(again.captured_queries)) >= 4
    assert not any("pg_trigger" in query["sql"] for query in again.captured_queries)


def test_switched_off_this_process_does_not_listen_for_changes_to_the_watched_tables(settings):
    """Where nothing is kept, no write to a watched table (alert intake writes them all the time) wakes the listener."""
    settings.IRT_WATCHED_READS = False
    reads = WatchedReads()
    assert not reads.usable()
    assert reads._heard not in listener._subscribers.get(CHANNEL, [])
    settings.IRT_WATCHED_READS = True
    reads.usable()
    reads.usable()
    assert listener._subscribers[CHANNEL].count(reads._heard) == 1
    listener._subscribers[CHANNEL].remove(reads._heard)
    on_from_the_start = WatchedReads()  # subscribed before its first use: the listener's first connection LISTENs to it
    assert listener._subscribers[CHANNEL].count(on_from_the_start._heard) == 1
    listener._subscribers[CHANNEL].remove(on_from_the_start._heard)
    listener.stop_listening()


def test_a_silent_listener_means_the_slots_are_rendered(watching, world, monkeypatch):
    busy(world)
    client = reader(world.manager)
    kept_page(client, world.case)
    monkeypatch.setattr(listener, "heard_lately", lambda channel: False)
    with CaptureQueriesContext(connection) as again:
        client.get(world.case.get_absolute_url())
    assert len(slot_queries(again.captured_queries)) >= 4


# The changes of test_case_page_kept that a slot shows (the alert panel, the notices' fan-out, the receipts), and the
# affected organisations' rows the receipts hang on.
SLOT_CHANGE_NAMES = ("alert group attached", "observable seen in another case", "customer acknowledges", "delivery ends dead",
                     "breach notices' fan-out moves", "customer added", "customer confirmed", "customer withdrawn")
SLOT_CHANGES = [item for item in CHANGES if item.name in SLOT_CHANGE_NAMES]


def test_every_slot_change_is_one_of_the_page_s_changes():
    assert sorted(item.name for item in SLOT_CHANGES) == sorted(SLOT_CHANGE_NAMES)


@pytest.mark.parametrize("item", SLOT_CHANGES, ids=[item.name for item in SLOT_CHANGES])
@pytest.mark.parametrize("where", ["this process", "another process"])
def test_every_change_to_what_a_slot_shows_is_on_the_next_request(watching, world, item, where, monkeypatch):
    if item.setup:
        item.setup(world)
    client = reader(world.manager)
    before = kept_page(client, world.case)
    heading, text = changed_from(where, monkeypatch, item.change, world)
    page = client.get(world.case.get_absolute_url()).content.decode()
    part, part_before = (section(page, heading), section(before, heading)) if heading else (page, before)
    assert_change_shown(item, text, part_before, part)


def test_the_csrf_token_in_a_kept_slot_is_each_session_s_own(watching, world):
    """The Retry form of a dead delivery sits in the receipts slot: two sessions of one manager each get their own token."""
    busy(world)
    first, second = reader(world.manager), reader(world.manager)
    for client in (first, second, first, second):
        page = client.get(world.case.get_absolute_url()).content.decode()
        receipts = section(page, "customers-h")
        tokens = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', receipts)
        assert tokens
        secret = client.cookies["csrftoken"].value
        assert all(_unmask_cipher_token(token) == secret for token in tokens)
    assert first.cookies["csrftoken"].value != second.cookies["csrftoken"].value


def test_a_rendering_is_kept_only_if_every_table_it_read_is_watched(watching, world):
    with watching.recording() as keep:
        list(type(world.case).objects.filter(pk=world.case.pk))
        keep("watched only", "kept")
    with watching.recording() as keep:
        list(TimelineEvent.objects.filter(case=world.case)[:1])
        keep("a table without the trigger", "kept")
    with transaction.atomic(), watching.recording() as keep:
        list(type(world.case).objects.filter(pk=world.case.pk))
        keep("inside a transaction", "kept")
    assert watching.get("watched only") == "kept"
    assert [watching.get(key) for key in ("a table without the trigger", "inside a transaction")] == [None] * 2


def test_a_cached_value_a_recorded_rendering_needs_is_read_from_the_database(watching, world):
    """No trigger says when a cached value changes: read while recording, it is computed, so its tables are recorded."""
    values = Generations("test-watched")
    read = []
    assert values.get("value", lambda: read.append(1) or "from the database") == "from the database"
    with watching.recording() as keep:
        assert isinstance(values.get("value", lambda: read.append(1) or list(TimelineEvent.objects.all()[:1])), list)
        keep("a cached value from a table without the trigger", "kept")
    assert len(read) == 2
    assert watching.get("a cached value from a table without the trigger") is None


def test_a_read_under_way_when_a_change_is_heard_is_not_kept(watching, world):
    with watching.recording() as keep:
        list(type(world.case).objects.filter(pk=world.case.pk))
        watching._heard("cases_case")  # heard while the rendering was under way: it may predate the change
        keep("raced", "kept")
    assert watching.get("raced") is None


def subscription_queries(queries) -> list[str]:
    return [query["sql"] for query in queries if "notifications_subscription" in query["sql"]]


@pytest.mark.parametrize("where", ["this process", "another process"])
def test_the_portal_s_follow_up_choice_is_kept_until_it_changes(watching, client, incident, contoso_user,  # noqa: F811
                                                               where, monkeypatch):
    client.force_login(contoso_user)
    url = reverse("portal:incident", args=[incident.reference])
    with CaptureQueriesContext(connection) as first:
        rendered = client.get(url).content.decode()
    assert subscription_queries(first.captured_queries)
    with CaptureQueriesContext(connection) as again:
        kept = client.get(url).content.decode()
    assert subscription_queries(again.captured_queries) == []
    assert without_tokens(kept) == without_tokens(rendered)
    assert '<option value="skip" selected>' not in kept
    changed_from(where, monkeypatch, lambda: subscriptions.set_subscriptions(by=contoso_user, target=incident, mine=False))
    assert '<option value="skip" selected>' in client.get(url).content.decode()


def test_slots_that_follow_the_clock_are_never_kept(watching, client, manager, responder):
    """The dashboard's ages and heading clock are slots that read nothing: only the views that say so keep their slots."""
    start = timezone.now().replace(second=50, microsecond=0)
    case = CaseFactory(by=responder, title="Ageing")
    Case.objects.filter(pk=case.pk).update(detected_at=start - timedelta(minutes=59, seconds=55))
    client.force_login(manager)
    with time_machine.travel(start, tick=False):
        client.get(reverse("cases:dashboard"))
        assert "59\xa0minutes" in client.get(reverse("cases:dashboard")).content.decode()
    with time_machine.travel(start + timedelta(seconds=9), tick=False):
        assert "1\xa0hour ago" in client.get(reverse("cases:dashboard")).content.decode()


# The portal's access rows: kept until a table they read changes, so access is still decided by the database's answer.


def portal_pages(incident):
    return [reverse("portal:incident", args=[incident.reference]), reverse("portal:index")]


def test_a_repeated_portal_page_asks_the_database_nothing(watching, client, incident, contoso_user, settings):  # noqa: F811
    from cases.access.sessions.memo import signed_in_memo

    settings.IRT_SIGNED_IN_MEMO = True  # the session's read is kept too
    until(signed_in_memo.usable, "the listener is heard from")
    client.force_login(contoso_user)
    for url in portal_pages(incident):
        client.get(url)
        client.get(url)
        with CaptureQueriesContext(connection) as again:
            assert client.get(url).status_code == 200
        assert [q["sql"] for q in again.captured_queries] == [], url


def access_withdrawn(incident, manager):
    from cases.models import AffectedCustomer
    from cases.services.breach import withdraw_affected_customer

    withdraw_affected_customer(row=AffectedCustomer.objects.get(case=incident), by=manager, reason="Not affected after all.")


def grant_revoked(incident, manager):
    with connection.cursor() as cursor:  # as an admin's request in another process would
        cursor.execute("DELETE FROM cases_casegroupobjectpermission WHERE content_object_id = %s", [incident.pk])


@pytest.mark.parametrize("change", [access_withdrawn, grant_revoked], ids=["organisation withdrawn", "grant revoked"])
@pytest.mark.parametrize("where", ["this process", "another process"])
def test_lost_access_counts_on_the_next_request(watching, client, incident, contoso_user, manager,  # noqa: F811
                                              change, where, monkeypatch):
    client.force_login(contoso_user)
    page, index = portal_pages(incident)
    for _ in range(2):
        assert client.get(page).status_code == 200
        assert incident.reference in client.get(index).content.decode()
    changed_from(where, monkeypatch, change, incident, manager)
    assert client.get(page).status_code == 404
    assert incident.reference not in client.get(index).content.decode()


def test_another_organisation_s_customer_is_never_answered_from_what_was_kept(watching, client, incident, contoso_user,  # noqa: F811
                                                                               fabrikam_user):
    client.force_login(contoso_user)
    page, _ = portal_pages(incident)
    client.get(page)
    assert client.get(page).status_code == 200
    client.force_login(fabrikam_user)
    assert client.get(page).status_code == 404
    assert client.get(reverse("portal:incident", args=["IRT-2026-99999"])).status_code == 404
    assert not [key for key in watching._copies.entries if "IRT-2026-99999" in key], "a made-up address is not kept"


# The staff case list's rows: kept until a table they read changes; every change the list shows is on the next request.


@pytest.fixture
def list_world(manager, second_manager, responder, other_responder, comms, contoso):
    """test_case_list_kept's world: an open case owned by a manager with a member responder."""
    from tests.cases.views.test_case_list_kept import listed_world

    return listed_world(manager, second_manager, responder, other_responder, comms, contoso)


def list_row_queries(queries) -> list[str]:
    return [query["sql"] for query in queries if 'FROM "cases_case"' in query["sql"]]


def test_a_repeated_case_list_reads_no_rows(watching, list_world):
    from tests.cases.views.test_case_list_kept import LIST

    client = reader(list_world.manager)
    client.get(LIST)
    with CaptureQueriesContext(connection) as again:
        assert "LISTED-CASE" in client.get(LIST).content.decode()
    assert list_row_queries(again.captured_queries) == []


@pytest.mark.parametrize("item", LIST_CHANGES, ids=[item.name for item in LIST_CHANGES])
@pytest.mark.parametrize("where", ["this process", "another process"])
def test_every_change_the_case_list_shows_is_on_the_next_request(watching, list_world, item, where, monkeypatch):
    from tests.cases.views import test_case_list_kept as lists

    w = list_world
    if item.setup:
        item.setup(w)
    who = getattr(w, item.who)
    client = reader(who)
    before = lists.kept_list(client, item.query)
    where_shown, text = changed_from(where, monkeypatch, item.change, w)
    who.refresh_from_db()
    page = client.get(lists.LIST, item.query).content.decode()
    assert_change_shown(item, text, lists._part(before, where_shown, w), lists._part(page, where_shown, w))
