"""The metrics page: figures from timeline events, the cases behind them, CSV, and a fixed number of queries."""

import csv
import io
import time
import uuid
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from cases.models import Case, Deadline, RepairItem, TimelineEvent
from cases.selectors.metrics import default_period, metrics, percentile
from tests.factories import case_in_stage

METRICS_QUERIES = 7  # 8 before the session and the user were one query


def test_percentile_is_the_nearest_rank():
    values = list(range(1, 11))
    assert percentile(values, 0.9) == 9
    assert percentile(values, 0.5) == 5
    assert percentile([7.0], 0.9) == 7.0


def test_time_to_contain_is_measured_from_the_first_transition_event(manager):
    start = timezone.now() - timedelta(days=3)
    with time_machine.travel(start, tick=False):
        case = case_in_stage(Case.Status.DIAGNOSING, manager=manager, detected_at=start)
    with time_machine.travel(start + timedelta(hours=5), tick=False):
        from cases.services import lifecycle

        lifecycle.stabilize(case=case, by=manager, note="Key revoked.")
    result = metrics(manager, period=default_period(), dimension="severity")
    contain = next(figure for figure in result["durations"] if figure.key == "contain")
    overall = next(row for row in contain.rows if row.group == "all")
    assert overall.values == {"n": 1, "median": 5.0, "p90": 5.0}
    assert overall.case_ids == [case.pk]
    assert [row.label for row in contain.rows] == ["High", "All cases"]


def test_a_case_a_reader_may_not_see_is_left_out(manager, responder):
    case_in_stage(Case.Status.STABILIZING, manager=manager, restricted=True)
    assert metrics(responder, period=default_period(), dimension="month")["cases"] == 0
    assert metrics(manager, period=default_period(), dimension="month")["cases"] == 1


def test_late_and_on_time_notices_come_from_deadline_met_events(manager):
    cases = bulk_cases(3, by=manager)
    for case, late in zip(cases, (False, False, True)):
        add_event(case, TimelineEvent.Kind.DEADLINE_MET, {"deadline": Deadline.Kind.CUSTOMER_NOTICE, "late": late})
    share, late = metrics(manager, period=default_period(), dimension="month")["notices"]
    overall = next(row for row in share.rows if row.group == "all")
    assert overall.values == {"n": 3, "on_time": 2, "late": 1, "share": 66.7}
    assert next(row for row in late.rows if row.group == "all").case_ids == [cases[2].pk]


def test_repair_items_count_as_done_by_their_target_date_or_not(manager):
    case = case_in_stage(Case.Status.STABILIZING, manager=manager)
    today = timezone.localdate()
    RepairItem.objects.create(case=case, title="On time", status="done", estimated_completion=today, completed_on=today)
    RepairItem.objects.create(case=case, title="Late", status="done", estimated_completion=today - timedelta(days=9),
                              completed_on=today)
    RepairItem.objects.create(case=case, title="Overdue", estimated_completion=today - timedelta(days=1))
    rows = {row.group: row.values["n"] for row in metrics(manager, period=default_period(), dimension="month")["repairs"].rows}
    assert rows == {"on_time": 1, "late": 1, "overdue": 1, "pending": 0}


def test_metrics_page_shows_svg_charts_with_tables_and_links_to_the_cases(client, manager):
    case = case_in_stage(Case.Status.STABILIZING, manager=manager)
    client.force_login(manager)
    response = client.get(reverse("metrics:page"), {"by": "severity"})
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count("<svg") == page.count("<table") >= 5  # a table beside every chart
    assert "<script>" not in page and "style=" not in page
    assert "Time to contain" in page
    link = reverse("metrics:cases") + "?since="
    assert link in page
    drill = client.get(reverse("metrics:cases"), {"figure": "contain", "group": "high", "by": "severity"})
    assert case.reference in drill.content.decode()


def test_unknown_figure_is_a_404(client, manager):
    client.force_login(manager)
    assert client.get(reverse("metrics:cases"), {"figure": "nope", "group": "all"}).status_code == 404


def test_a_period_that_ends_before_it_starts_falls_back_to_the_default(client, manager):
    client.force_login(manager)
    response = client.get(reverse("metrics:page"), {"since": "2026-05-01", "until": "2026-01-01"})
    assert response.status_code == 200
    assert "The start of the period is after its end." in response.content.decode()


def test_csv_export_has_a_line_per_figure_row_and_value(client, manager):
    case_in_stage(Case.Status.CLOSED, manager=manager)
    client.force_login(manager)
    response = client.get(reverse("metrics:csv"))
    assert response["Content-Type"].startswith("text/csv")
    lines = list(csv.DictReader(io.StringIO(response.content.decode())))
    close = [line for line in lines if line["figure"] == "close" and line["group"] == "all"]
    assert {line["value"] for line in close} == {"n", "median", "p90"}
    assert next(line for line in close if line["value"] == "n")["amount"] == "1"


def bulk_cases(count: int, *, by) -> list[Case]:
    """Insert ``count`` cases with their stage transitions as timeline events, in a few bulk queries."""
    now = timezone.now()
    severities = Case.Severity.values
    cases = Case.objects.bulk_create(
        Case(reference=f"IRT-1998-{i:05d}", title=f"Bulk case {i}", created_by=by, owner=by, severity=severities[i % 4],
             status=Case.Status.STABILIZING, detected_at=now - timedelta(hours=i % 5000, minutes=30))
        for i in range(count)
    )
    events = []
    for case in cases:
        for sequence, target in enumerate((Case.Status.ASSESSING, Case.Status.DIAGNOSING, Case.Status.STABILIZING), start=1):
            events.append(TimelineEvent(case=case, sequence=sequence, at=case.detected_at + timedelta(minutes=10 * sequence),
                                        kind=TimelineEvent.Kind.TRANSITION, text="", data={"to": target},
                                        previous_hash="", hash=uuid.uuid4().hex))
    TimelineEvent.objects.bulk_create(events, batch_size=2000)
    return cases


def add_event(case, kind, data):
    TimelineEvent.objects.create(case=case, sequence=case.timeline.count() + 1, at=timezone.now(), kind=kind, text="",
                                 data=data, previous_hash="", hash=uuid.uuid4().hex)


@pytest.mark.parametrize("count", [10, 10_000])
def test_metrics_page_runs_the_same_queries_at_ten_and_ten_thousand_cases(client, manager, count, django_assert_num_queries):
    bulk_cases(count, by=manager)
    client.force_login(manager)
    started = time.monotonic()
    with django_assert_num_queries(METRICS_QUERIES):
        response = client.get(reverse("metrics:page"), {"by": "severity"})
    assert response.status_code == 200
    assert f"{count} case" in response.content.decode()
    assert time.monotonic() - started < 20
