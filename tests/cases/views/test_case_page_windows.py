"""The case page shows windows of the timeline and the tasks, whatever their length: filters, "show older", junk refused."""

import re
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from cases.models import Case, Task, TimelineEvent
from cases.selectors.cases import FINISHED_TASKS_SHOWN, OPEN_TASK_WINDOW, TIMELINE_WINDOW
from cases.services.timeline import append_events, lock_case
from tests.factories import case_in_stage

pytestmark = pytest.mark.django_db
K = TimelineEvent.Kind


def add_events(case, entries):
    with transaction.atomic():
        append_events(case=lock_case(case), entries=entries)


def sequences(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'data-sequence="(\d+)"', html)]


def link(html: str, testid: str) -> str | None:
    match = re.search(rf'<a href="([^"]*)#[a-z-]+" data-testid="{testid}">', html)
    return match.group(1).replace("&amp;", "&") if match else None


@pytest.fixture
def case(manager):
    return case_in_stage(Case.Status.DIAGNOSING, manager=manager)


def test_case_with_5000_events_renders_one_window_of_the_timeline(client, manager, case):
    add_events(case, [(manager, K.NOTE, f"Note {i}", None) for i in range(5000)])
    client.force_login(manager)
    response = client.get(case.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('<li class="kind-') == TIMELINE_WINDOW
    newest = case.timeline.order_by("-sequence").values_list("sequence", flat=True).first()
    assert sequences(html) == list(range(newest, newest - TIMELINE_WINDOW, -1))
    assert len(response.content) < 200_000


def test_show_older_walks_the_whole_timeline_once_newest_first(client, manager, case):
    add_events(case, [(manager, K.NOTE, f"Note {i}", None) for i in range(2 * TIMELINE_WINDOW + 7)])
    client.force_login(manager)
    seen, url, pages = [], case.get_absolute_url(), 0
    while url is not None:
        html = client.get(url).content.decode()
        seen += sequences(html)
        older = link(html, "timeline-older")
        url = case.get_absolute_url() + older if older else None
        pages += 1
    total = case.timeline.count()
    assert seen == list(range(total, 0, -1))
    assert pages == -(-total // TIMELINE_WINDOW)


def test_timeline_filters_by_kind_and_actor_and_keeps_them_on_older(client, manager, responder, case):
    add_events(case, [(responder if i % 2 else manager, K.NOTE if i % 3 else K.TASK_DONE, f"Event {i}", None) for i in range(400)])
    client.force_login(manager)
    response = client.get(case.get_absolute_url(), {"kind": "note", "actor": "responder"})
    html = response.content.decode()
    expected = list(case.timeline.filter(kind=K.NOTE, actor_name="responder").order_by("-sequence").values_list("sequence", flat=True))
    assert sequences(html) == expected[:TIMELINE_WINDOW]
    older = link(html, "timeline-older")
    assert "kind=note" in older and "actor=responder" in older
    assert sequences(client.get(case.get_absolute_url() + older).content.decode()) == expected[TIMELINE_WINDOW:2 * TIMELINE_WINDOW]
    assert "No events match." in client.get(case.get_absolute_url(), {"actor": "nobody-here"}).content.decode()


@pytest.mark.parametrize("query", [
    {"kind": "not-a-kind"}, {"actor": "two words<script>"}, {"actor": "nul\x00byte"}, {"before": "-1"}, {"before": "abc"},
    {"before": str(2**70)}, {"tasks_after": "0"}, {"tasks_after": str(2**64)}, {"kind": "x" * 5000},
])
def test_junk_in_the_query_string_is_a_400_with_the_newest_window(client, manager, case, query):
    add_events(case, [(manager, K.NOTE, f"Note {i}", None) for i in range(TIMELINE_WINDOW + 5)])
    client.force_login(manager)
    response = client.get(case.get_absolute_url(), query)
    assert response.status_code == 400
    html = response.content.decode()
    assert sequences(html)[0] == case.timeline.count()
    assert len(sequences(html)) == TIMELINE_WINDOW


def test_open_tasks_come_in_windows_soonest_due_first_and_finished_ones_are_capped(client, manager, case):
    now = timezone.now()
    Task.objects.bulk_create(
        Task(case=case, title=f"Open {i}", created_by=manager, due_at=None if i % 4 == 0 else now + timedelta(hours=i % 9))
        for i in range(2 * OPEN_TASK_WINDOW + 3)
    )
    Task.objects.bulk_create(Task(case=case, title=f"Done {i}", created_by=manager, done_at=now) for i in range(FINISHED_TASKS_SHOWN + 4))
    expected = [t.title for t in sorted(case.tasks.open(), key=lambda t: (t.due_at is None, t.due_at or now, t.pk))]
    client.force_login(manager)
    seen, url = [], case.get_absolute_url()
    while url is not None:
        html = client.get(url).content.decode()
        rows = re.findall(r'<tr data-testid="task-row">\s*<td>([^<]*)<', html)
        assert len(rows) <= OPEN_TASK_WINDOW + FINISHED_TASKS_SHOWN
        seen += [title for title in rows if title.startswith("Open")]
        assert len([title for title in rows if title.startswith("Done")]) == FINISHED_TASKS_SHOWN
        more = link(html, "tasks-more")
        url = case.get_absolute_url() + more if more else None
    assert seen == expected
    assert "Every finished task, in the timeline" in html
