"""Alert intake: idempotent on (source, source_ref), bulk all-or-nothing, correlated into groups."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cases.models.exceptions import NotAllowed
from cases.models import Alert, AlertGroup, AlertResource, Observable
from cases.services.alert_formats import AlertRejected
from cases.services.intake import MAX_BULK, ingest_alert, ingest_alerts_bulk
from tests.cases.alerts.samples import alert_payload
from tests.threads import race


def test_first_receipt_stores_the_alert_in_a_new_group(connector):
    alert, created = ingest_alert(payload=alert_payload(source_ref="A-1", resources=["/subscriptions/SUB-1/rg/x"]), by=connector)
    assert created is True
    assert alert.seen_count == 1 and alert.group.status == AlertGroup.Status.NEW
    assert alert.group.alert_count == 1 and alert.group.severity == "high"
    assert list(alert.observables.values_list("kind", "value")) == [("ip", "203.0.113.10")]
    assert list(AlertResource.objects.values_list("resource_id", "tenant_id")) == [("/subscriptions/SUB-1/rg/x", "sub-1")]
    assert alert.raw == {"rule": "impossible-travel", "score": 87}


def test_replay_answers_the_same_alert_and_counts_it(connector):
    first, _ = ingest_alert(payload=alert_payload(source_ref="A-1"), by=connector)
    again, created = ingest_alert(payload=alert_payload(source_ref="A-1", title="changed title"), by=connector)
    assert created is False and again.pk == first.pk
    stored = Alert.objects.get()
    assert stored.seen_count == 2 and stored.title == first.title
    assert stored.last_seen_at >= first.last_seen_at
    assert AlertGroup.objects.count() == 1 and AlertGroup.objects.get().alert_count == 1


def test_same_reference_from_another_source_is_another_alert(connector):
    ingest_alert(payload=alert_payload(source_ref="A-1"), by=connector)
    _, created = ingest_alert(payload=alert_payload(source_ref="A-1", source="splunk"), by=connector)
    assert created is True and Alert.objects.count() == 2


def test_customer_and_comms_cannot_send_alerts(contoso_user, comms):
    for user in (contoso_user, comms):
        with pytest.raises(NotAllowed):
            ingest_alert(payload=alert_payload(), by=user)
    assert not Alert.objects.exists()


def test_responder_may_send_alerts(responder):
    _, created = ingest_alert(payload=alert_payload(), by=responder)
    assert created


def test_rejected_alert_stores_nothing(connector):
    with pytest.raises(AlertRejected):
        ingest_alert(payload=alert_payload(severity="apocalyptic"), by=connector)
    assert not Alert.objects.exists() and not Observable.objects.exists() and not AlertGroup.objects.exists()


def test_alerts_with_the_same_correlation_key_share_a_group(connector):
    a, _ = ingest_alert(payload=alert_payload(correlation_key="k-1", severity="low", observables=[]), by=connector)
    b, _ = ingest_alert(payload=alert_payload(correlation_key="k-1", severity="critical", observables=[],
                                              observed_at="2026-03-02T07:00:00Z"), by=connector)
    c, _ = ingest_alert(payload=alert_payload(correlation_key="k-2", observables=[]), by=connector)
    assert a.group_id == b.group_id != c.group_id
    group = AlertGroup.objects.get(pk=a.group_id)
    assert group.alert_count == 2 and group.severity == "critical"
    assert group.first_seen_at.isoformat() == "2026-03-02T07:00:00+00:00"


def test_alerts_sharing_an_observable_within_the_window_share_a_group(connector):
    a, _ = ingest_alert(payload=alert_payload(observables=[{"kind": "ip", "value": "198.51.100.1"}]), by=connector)
    b, _ = ingest_alert(payload=alert_payload(observables=[{"kind": "ip", "value": "198.51.100.1"},
                                                           {"kind": "domain", "value": "evil.example"}]), by=connector)
    c, _ = ingest_alert(payload=alert_payload(observables=[{"kind": "domain", "value": "EVIL.example"}]), by=connector)
    d, _ = ingest_alert(payload=alert_payload(observables=[{"kind": "ip", "value": "198.51.100.2"}]), by=connector)
    assert a.group_id == b.group_id == c.group_id != d.group_id
    assert AlertGroup.objects.get(pk=a.group_id).alert_count == 3


def test_alerts_sharing_a_resource_share_a_group(connector):
    a, _ = ingest_alert(payload=alert_payload(observables=[], resources=["arn:aws:s3:::exports"]), by=connector)
    b, _ = ingest_alert(payload=alert_payload(observables=[], resources=[{"id": "arn:aws:s3:::exports", "tenant_id": "1234"}]), by=connector)
    assert a.group_id == b.group_id


def test_alerts_outside_the_window_start_a_new_group(connector, settings):
    settings.IRT_ALERT_CORRELATION_WINDOW_MINUTES = 30
    now = timezone.now()
    a, _ = ingest_alert(payload=alert_payload(), by=connector, now=now - timedelta(minutes=31))
    b, _ = ingest_alert(payload=alert_payload(), by=connector, now=now)
    assert a.group_id != b.group_id


def test_alert_does_not_join_a_group_already_handled(connector):
    a, _ = ingest_alert(payload=alert_payload(correlation_key="k"), by=connector)
    AlertGroup.objects.filter(pk=a.group_id).update(status=AlertGroup.Status.DISMISSED)
    b, _ = ingest_alert(payload=alert_payload(correlation_key="k"), by=connector)
    c, _ = ingest_alert(payload=alert_payload(), by=connector)  # shares a's observable
    assert b.group_id != a.group_id and c.group_id not in (a.group_id,)
    assert AlertGroup.objects.get(pk=a.group_id).alert_count == 1


def test_bulk_stores_every_alert_and_answers_in_order(connector, django_assert_max_num_queries):
    payloads = [alert_payload(source_ref=f"B-{i}", observables=[{"kind": "ip", "value": f"10.1.{i // 200}.{i % 200}"}])
                for i in range(MAX_BULK)]
    # A fixed number of statements: SQLite splits inserts by its parameter limit, PostgreSQL needs fewer.
    with django_assert_max_num_queries(30):
        results = ingest_alerts_bulk(payloads=payloads, by=connector)
    assert [alert.source_ref for alert, _ in results] == [f"B-{i}" for i in range(MAX_BULK)]
    assert all(created for _, created in results)
    assert Alert.objects.count() == MAX_BULK and Observable.objects.count() == MAX_BULK
    assert Alert.observables.through.objects.count() == MAX_BULK


def test_bulk_replays_and_duplicates_inside_a_batch_count_as_seen(connector):
    first, _ = ingest_alert(payload=alert_payload(source_ref="R-1"), by=connector)
    results = ingest_alerts_bulk(payloads=[alert_payload(source_ref="R-1"), alert_payload(source_ref="R-2"),
                                           alert_payload(source_ref="R-2")], by=connector)
    assert [(a.pk, c) for a, c in results] == [(first.pk, False), (results[1][0].pk, True), (results[1][0].pk, False)]
    assert dict(Alert.objects.values_list("source_ref", "seen_count")) == {"R-1": 2, "R-2": 2}


def test_bulk_correlates_alerts_inside_the_batch(connector):
    results = ingest_alerts_bulk(payloads=[alert_payload(correlation_key="x", observables=[]),
                                           alert_payload(correlation_key="x", observables=[]),
                                           alert_payload(observables=[{"kind": "domain", "value": "c2.example"}]),
                                           alert_payload(observables=[{"kind": "domain", "value": "c2.example"}])], by=connector)
    groups = [alert.group_id for alert, _ in results]
    assert groups[0] == groups[1] and groups[2] == groups[3] and groups[0] != groups[2]
    assert sorted(AlertGroup.objects.values_list("alert_count", flat=True)) == [2, 2]


def test_bulk_with_one_bad_alert_stores_nothing_and_names_it(connector):
    with pytest.raises(AlertRejected) as refused:
        ingest_alerts_bulk(payloads=[alert_payload(), alert_payload(severity="bogus")], by=connector)
    assert "alerts.1.severity" in refused.value.errors
    assert not Alert.objects.exists()


def test_bulk_over_the_limit_is_refused(connector):
    with pytest.raises(AlertRejected):
        ingest_alerts_bulk(payloads=[alert_payload() for _ in range(MAX_BULK + 1)], by=connector)
    assert not Alert.objects.exists()


def statements(sqlite: int, postgresql: int) -> int:
    """Return the pinned count for this database (SQLite splits big inserts by its parameter limit).

    Counts include the SAVEPOINT and RELEASE of the intake's transaction inside the test's own.
    """
    from django.db import connection

    return {"sqlite": sqlite, "postgresql": postgresql}[connection.vendor]


def test_a_new_alert_takes_a_fixed_number_of_statements(connector, django_assert_num_queries):
    connector.has_perm("cases.add_alert")  # the permission cache is the request's, filled by authentication
    # Lookup, observable upsert + select, indicator lookup with its lock, group, alert, through row, indicators.
    with django_assert_num_queries(statements(10, 10)):
        ingest_alert(payload=alert_payload(source_ref="Q-1"), by=connector)


def test_an_alert_joining_a_waiting_group_finds_and_locks_it_in_one_statement(connector, django_assert_num_queries):
    ingest_alert(payload=alert_payload(source_ref="Q-1"), by=connector)
    # No group insert; one update of the joined group instead.
    with django_assert_num_queries(statements(10, 10)):
        alert, _ = ingest_alert(payload=alert_payload(source_ref="Q-2"), by=connector)
    assert AlertGroup.objects.get(pk=alert.group_id).alert_count == 2


def test_a_replay_is_one_update(connector, django_assert_num_queries):
    first, _ = ingest_alert(payload=alert_payload(source_ref="Q-1"), by=connector)
    connector.has_perm("cases.add_alert")
    with django_assert_num_queries(statements(3, 3)):
        again, created = ingest_alert(payload=alert_payload(source_ref="Q-1"), by=connector)
    assert created is False and (again.pk, again.group_id, again.seen_count) == (first.pk, first.group_id, 2)
    assert Alert.objects.get().seen_count == 2


def test_a_bulk_of_500_takes_the_same_statements_whether_its_alerts_start_or_join_groups(connector, django_assert_num_queries):
    def batch(prefix):
        return [alert_payload(source_ref=f"{prefix}-{i}", observables=[{"kind": "ip", "value": f"10.1.{i // 200}.{i % 200}"}])
                for i in range(MAX_BULK)]

    connector.has_perm("cases.add_alert")
    with django_assert_num_queries(statements(16, 10)):
        ingest_alerts_bulk(payloads=batch("N"), by=connector)
    # Every alert joins one of the 500 groups above: one update for all of them, not one per group.
    with django_assert_num_queries(statements(10, 10)):
        results = ingest_alerts_bulk(payloads=batch("J"), by=connector)
    assert AlertGroup.objects.count() == MAX_BULK and set(AlertGroup.objects.values_list("alert_count", flat=True)) == {2}
    assert all(created for _, created in results)


@pytest.mark.django_db(transaction=True)
def test_concurrent_receipts_of_one_alert_store_it_once(connector):
    """Threads race on the unique constraint; on SQLite they serialise, on PostgreSQL they truly race."""
    from django.db import connection

    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
    payload = alert_payload(source_ref="RACE-1", correlation_key="race")
    outcomes = race(*[lambda: ingest_alert(payload=dict(payload), by=connector) for _ in range(4)])
    results = [outcome for outcome in outcomes if isinstance(outcome, tuple)]
    assert len(results) == 4, outcomes
    assert len({alert.pk for alert, _ in results}) == 1
    assert sorted(created for _, created in results) == [False, False, False, True]
    assert Alert.objects.get().seen_count == 4 and AlertGroup.objects.count() == 1
