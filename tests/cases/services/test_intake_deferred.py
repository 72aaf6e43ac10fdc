"""Deferred correlation: intake stores an alert in one statement and the correlator groups it later."""

import pytest
from django.core.management import call_command
from django.db import connection

from cases.models import Alert, AlertGroup, AlertResource
from cases.services.intake import correlate_waiting, ingest_alert, ingest_alerts_bulk
from tests.cases.alerts.samples import alert_payload
from tests.threads import race


@pytest.fixture
def deferred(settings):
    settings.IRT_ALERT_CORRELATION = "deferred"


def test_a_deferred_alert_is_stored_ungrouped_in_one_statement(connector, deferred, django_assert_num_queries):
    connector.has_perm("cases.add_alert")  # the permission cache is the request's, filled by authentication
    with django_assert_num_queries(1):
        alert, created = ingest_alert(payload=alert_payload(source_ref="D-1", resources=["/subscriptions/SUB-1/rg/x"]), by=connector)
    assert created is True and alert.group_id is None
    stored = Alert.objects.get()
    assert stored.group_id is None and stored.pending["observables"] == [["ip", "203.0.113.10"]]
    assert not AlertGroup.objects.exists() and not AlertResource.objects.exists()


def test_the_correlator_groups_waiting_alerts_and_clears_what_they_waited_with(connector, deferred):
    alert, _ = ingest_alert(payload=alert_payload(source_ref="D-1", resources=["/subscriptions/SUB-1/rg/x"]), by=connector)
    ingest_alert(payload=alert_payload(source_ref="D-2"), by=connector)  # the same observable: the same group
    assert correlate_waiting() == 2
    assert correlate_waiting() == 0
    stored = Alert.objects.get(pk=alert.pk)
    assert stored.pending is None and stored.group.alert_count == 2 and stored.group.severity == "high"
    assert list(stored.observables.values_list("kind", "value")) == [("ip", "203.0.113.10")]
    assert list(AlertResource.objects.values_list("resource_id", "tenant_id")) == [("/subscriptions/SUB-1/rg/x", "sub-1")]
    assert set(Alert.objects.values_list("group_id", flat=True)) == {stored.group_id}


def test_a_replay_of_a_waiting_alert_is_counted_and_still_waits(connector, deferred):
    first, _ = ingest_alert(payload=alert_payload(source_ref="D-1"), by=connector)
    again, created = ingest_alert(payload=alert_payload(source_ref="D-1"), by=connector)
    assert created is False and again.pk == first.pk and again.seen_count == 2 and again.group_id is None
    correlate_waiting()
    assert AlertGroup.objects.get().alert_count == 1


def test_deferred_and_inline_intake_group_a_stream_the_same_way(connector, settings):
    """The same alerts, through each mode, fall into the same partition of groups."""
    def stream(prefix):
        return [
            alert_payload(source_ref=f"{prefix}-{i}", correlation_key="k" if i % 5 == 0 else "",
                          observables=[{"kind": "ip", "value": f"198.51.100.{i % 7}"}], resources=[f"/subscriptions/{prefix}-{i % 3}/rg/x"])
            for i in range(40)
        ]

    def partition(prefix):
        groups = {}
        for ref, group in Alert.objects.filter(source_ref__startswith=f"{prefix}-").values_list("source_ref", "group_id"):
            groups.setdefault(group, set()).add(ref.split("-", 1)[1])
        return sorted(sorted(members) for members in groups.values())

    ingest_alerts_bulk(payloads=stream("I"), by=connector)
    settings.IRT_ALERT_CORRELATION = "deferred"
    ingest_alerts_bulk(payloads=stream("D"), by=connector)
    # Each mode's alerts must not join the other's groups: close the inline ones first.
    AlertGroup.objects.filter(alerts__source_ref__startswith="I-").update(status=AlertGroup.Status.DISMISSED)
    assert correlate_waiting() == 40
    assert partition("D") == partition("I") and len(partition("I")) > 1


def test_a_backlog_grouped_in_small_batches_counts_every_alert_once(connector, deferred):
    ingest_alerts_bulk(payloads=[alert_payload(source_ref=f"B-{i}", observables=[{"kind": "ip", "value": f"198.51.100.{i % 4}"}])
                                 for i in range(30)], by=connector)
    while correlate_waiting(limit=7):
        pass
    # Batches meet earlier batches' groups through their indicators: one group per address.
    assert sorted(AlertGroup.objects.values_list("alert_count", flat=True)) == [7, 7, 8, 8]


def test_a_bulk_replay_counts_every_copy(connector, deferred):
    results = ingest_alerts_bulk(payloads=[alert_payload(source_ref="B-1"), alert_payload(source_ref="B-1"),
                                           alert_payload(source_ref="B-2")], by=connector)
    assert [created for _, created in results] == [True, False, True]
    assert dict(Alert.objects.values_list("source_ref", "seen_count")) == {"B-1": 2, "B-2": 1}


def test_the_command_groups_the_backlog(connector, deferred, capsys):
    ingest_alerts_bulk(payloads=[alert_payload(source_ref=f"C-{i}") for i in range(3)], by=connector)
    call_command("correlate_alerts", "--batch", "2")
    assert "Grouped 3 alerts." in capsys.readouterr().out
    assert not Alert.objects.filter(group__isnull=True).exists()


@pytest.mark.django_db(transaction=True)
def test_two_correlators_share_a_backlog_without_grouping_an_alert_twice(connector, deferred):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers; SKIP LOCKED needs PostgreSQL")
    ingest_alerts_bulk(payloads=[alert_payload(source_ref=f"S-{i}", observables=[{"kind": "ip", "value": f"192.0.2.{i}"}])
                                 for i in range(200)], by=connector)
    def correlate():
        done = 0
        while n := correlate_waiting(limit=20):
            done += n
        return done

    done = race(correlate, correlate)
    assert sum(done) == 200
    assert AlertGroup.objects.count() == 200 and set(AlertGroup.objects.values_list("alert_count", flat=True)) == {1}
    assert not Alert.objects.filter(group__isnull=True).exists()
