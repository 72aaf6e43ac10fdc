"""Receiving alerts: idempotent on ``(source, source_ref)``, correlated into triage groups.

``ingest_alert`` and ``ingest_alerts_bulk`` share one store path: every alert of a call is
written by one ``INSERT … ON CONFLICT DO UPDATE`` (``_upsert``), whose conflict branch counts a
replay, so a call does a fixed number of statements whatever the batch size (pinned in
``tests/cases/services/test_intake.py``). The unique constraint on ``(source, source_ref)`` is the
arbiter under concurrency; the one waiting group per correlation key may make a racing intake
retry (``IntegrityError``), and the retry joins the winner's group.

``IRT_ALERT_CORRELATION`` says when alerts are grouped. ``inline`` (the default) groups them in
the intake's own transaction, so the answer names the group. ``deferred`` answers after the one
statement (the group is null until grouped) and ``correlate_waiting`` (``manage.py correlate_alerts
--loop``) groups the backlog in batches; several correlators share it through ``SKIP LOCKED``.
Both run the same grouping (``_group``), so an alert lands in the same group either way.

Correlation: an alert with a source-supplied ``correlation_key`` joins the waiting group with
that key. Otherwise it joins the oldest waiting group that saw one of its observables or
resources within ``IRT_ALERT_CORRELATION_WINDOW_MINUTES``; otherwise it starts a group. Two
keyless alerts racing on a shared observable may start two groups; a responder attaches one
to the other's case, which is cheaper than serialising all intake on one lock.
"""

from collections import Counter, defaultdict
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from cases.access.permissions import can_send_alerts
from cases.models.exceptions import NotAllowed
from cases.models import Alert, AlertGroup, AlertGroupIndicator, AlertResource, Observable
from cases.models.alerts import SEVERITY_RANK, highest_severity
from cases.models.dashboard_data import forget_queue_data
from cases.services.alert_formats import AlertData, AlertRejected, validate_alert
from cases.services.bulk_rows import insert_rows

MAX_BULK = 500
# Lookups go in chunks below SQLite's and PostgreSQL's bound-parameter limits.
CHUNK = 900
ATTEMPTS = 3


def ingest_alert(*, payload, by, now=None) -> tuple[Alert, bool]:
    """Store one IRT-shaped alert; return it and whether this was its first receipt."""
    _check_sender(by)
    return _ingest([validate_alert(payload)], by=by, now=now)[0]


def ingest_alerts_bulk(*, payloads, by, now=None) -> list[tuple[Alert, bool]]:
    """Store up to ``MAX_BULK`` alerts at once, all or none; return ``(alert, created)`` per item, in order."""
    _check_sender(by)
    if not isinstance(payloads, list) or not payloads:
        raise AlertRejected({"alerts": ["A non-empty list of alerts."]})
    if len(payloads) > MAX_BULK:
        raise AlertRejected({"alerts": [f"At most {MAX_BULK} alerts per request (got {len(payloads)})."]})
    items, errors = [], {}
    for index, payload in enumerate(payloads):
        try:
            items.append(validate_alert(payload))
        except AlertRejected as exc:
            errors.update({f"alerts.{index}" + (f".{path}" if path else ""): msgs for path, msgs in exc.errors.items()})
    if errors:
        raise AlertRejected(errors)
    return _ingest(items, by=by, now=now)


def _check_sender(by) -> None:
    if not can_send_alerts(by):
        raise NotAllowed("Only responders and connector service accounts send alerts.")


def _ingest(items: list[AlertData], *, by, now) -> list[tuple[Alert, bool]]:
    now = now or timezone.now()
    if settings.IRT_ALERT_CORRELATION == "deferred":
        # One statement, in autocommit: the correlator groups the alerts a moment later.
        return _upsert(items, by=by, now=now, deferred=True)
    for attempt in range(ATTEMPTS):
        try:
            with transaction.atomic():
                stored = _upsert(items, by=by, now=now, deferred=False)
                _group([(alert, item) for (alert, first), item in zip(stored, items) if first], now=now)
                return stored
        except IntegrityError:
            # A concurrent intake opened the waiting group for the same correlation key first;
            # the retry finds its committed group.
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _chunks(values):
    values = list(values)
    for start in range(0, len(values), CHUNK):
        yield values[start:start + CHUNK]


UPSERT_COLUMNS = ("source", "source_ref", "title", "severity", "description", "observed_at", "received_at",
                  "last_seen_at", "seen_count", "raw", "raw_size", "correlation_key", "received_by", "pending")
RETURNED = ["id", "source", "source_ref", "seen_count", "group_id"]


def _upsert(items: list[AlertData], *, by, now, deferred: bool) -> list[tuple[Alert, bool]]:
    """Store every alert in one ``INSERT … ON CONFLICT DO UPDATE``; return ``(alert, first receipt)`` in order.

    A replay (a known ``(source, source_ref)``, or the same one twice in a batch) only adds to
    ``seen_count``. The unique constraint is the arbiter, so two intakes racing on one alert both
    succeed and exactly one of them answers "first receipt": the one whose row came back with the
    count it sent.
    """
    counts = Counter((item.source, item.source_ref) for item in items)
    unique = list({(item.source, item.source_ref): item for item in reversed(items)}.values())[::-1]
    fields = [Alert._meta.get_field(name) for name in UPSERT_COLUMNS]
    # Text and numbers go to the driver as they are; JSON and date-times take Django's adaptation
    # (field-by-field get_db_prep_save on every column was a tenth of a single post's time).
    adapt = {field.name: field for field in fields if field.get_internal_type() in ("JSONField", "DateTimeField")}
    rows = []
    for item in unique:
        values = {
            "source": item.source, "source_ref": item.source_ref, "title": item.title, "severity": item.severity,
            "description": item.description, "observed_at": item.observed_at, "received_at": now, "last_seen_at": now,
            "seen_count": counts[(item.source, item.source_ref)], "raw": item.raw, "raw_size": item.raw_size,
            "correlation_key": item.correlation_key, "received_by": by.pk,
            "pending": {"observables": item.observables, "resources": item.resources} if deferred else None,
        }
        for name, field in adapt.items():
            values[name] = field.get_db_prep_save(values[name], connection)
        rows.append([values[field.name] for field in fields])
    quote = connection.ops.quote_name
    table = quote(Alert._meta.db_table)
    placeholders = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql = (
        f"INSERT INTO {table} ({', '.join(quote(field.column) for field in fields)}) "
        f"VALUES {', '.join([placeholders] * len(rows))} "
        f"ON CONFLICT (source, source_ref) DO UPDATE SET seen_count = {table}.seen_count + excluded.seen_count, "
        f"last_seen_at = excluded.last_seen_at RETURNING {', '.join(RETURNED)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [value for row in rows for value in row])
        returned = cursor.fetchall()
    stored = {}
    for row in returned:
        alert = Alert.from_db(connection.alias, RETURNED, row)
        stored[(alert.source, alert.source_ref)] = (alert, alert.seen_count == counts[(alert.source, alert.source_ref)])
    results, answered = [], set()
    for item in items:
        key = (item.source, item.source_ref)
        alert, fresh = stored[key]
        results.append((alert, fresh and key not in answered))
        answered.add(key)
    return results


def correlate_waiting(*, limit: int = MAX_BULK, now=None) -> int:
    """Group up to ``limit`` alerts stored by deferred intake; return how many.

    ``SKIP LOCKED`` lets several correlators share the backlog without waiting on each other.
    """
    for attempt in range(ATTEMPTS):
        try:
            with transaction.atomic():
                waiting = list(
                    Alert.objects.filter(group__isnull=True).order_by("id").select_for_update(skip_locked=True)
                    .only("id", "source", "source_ref", "title", "severity", "observed_at", "correlation_key", "pending")[:limit]
                )
                _group([(alert, _waiting_item(alert)) for alert in waiting], now=now or timezone.now())
                return len(waiting)
        except IntegrityError:
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _waiting_item(alert: Alert) -> AlertData:
    pending = alert.pending or {}
    return AlertData(
        source=alert.source, source_ref=alert.source_ref, title=alert.title, severity=alert.severity, description="",
        observed_at=alert.observed_at, correlation_key=alert.correlation_key,
        observables=[tuple(pair) for pair in pending.get("observables", [])],
        resources=[tuple(pair) for pair in pending.get("resources", [])],
    )


def _group(stored: list[tuple[Alert, AlertData]], *, now) -> None:
    """Correlate freshly stored alerts into groups and record their observables and resources."""
    if not stored:
        return
    alerts = [alert for alert, _ in stored]
    items = [item for _, item in stored]
    observable_ids = _observable_ids({pair for item in items for pair in item.observables})
    groups = _correlate(items, observable_ids, now=now)

    new_groups = [group for group in {id(g): g for g in groups}.values() if group.pk is None]
    AlertGroup.objects.bulk_create(new_groups)
    new = {id(group) for group in new_groups}
    for alert, group in zip(alerts, groups):
        alert.group, alert.pending = group, None
    _assign_groups(alerts)
    insert_rows(Alert.observables.through, ["alert", "observable"],
                [(alert.pk, observable_ids[pair]) for alert, item in stored for pair in item.observables])
    insert_rows(AlertResource, ["alert", "resource_id", "tenant_id"],
                [(alert.pk, resource, tenant) for alert, item in stored for resource, tenant in item.resources])
    insert_rows(AlertGroupIndicator, ["group", "indicator"], sorted({
        (group.pk, indicator) for group, item in zip(groups, items)
        for indicator in [*(f"o:{observable_ids[p]}" for p in item.observables), *(f"r:{r}" for r, _ in item.resources)]
    }), ignore_conflicts=True)
    _refresh_existing_groups(groups, items, new=new, now=now)


def _assign_groups(alerts: list[Alert]) -> None:
    """Set each alert's group and clear what it waited with: one ``UPDATE … FROM (VALUES …)`` per 500.

    Django's ``bulk_update`` writes a ``CASE`` with a branch per row, which cost more than the
    rest of the correlation together.
    """
    table = connection.ops.quote_name(Alert._meta.db_table)
    for start in range(0, len(alerts), MAX_BULK):
        chunk = alerts[start:start + MAX_BULK]
        if connection.vendor == "postgresql":
            values = ", ".join(["(%s::bigint, %s::bigint)"] * len(chunk))
            sql = (f"UPDATE {table} AS a SET group_id = v.group_id, pending = NULL "
                   f"FROM (VALUES {values}) AS v(id, group_id) WHERE a.id = v.id")
        else:  # SQLite names the columns of VALUES column1, column2.
            values = ", ".join(["(%s, %s)"] * len(chunk))
            sql = f"UPDATE {table} SET group_id = v.column2, pending = NULL FROM (VALUES {values}) AS v WHERE {table}.id = v.column1"
        with connection.cursor() as cursor:
            cursor.execute(sql, [value for alert in chunk for value in (alert.pk, alert.group_id)])


def _observable_ids(pairs: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    if not pairs:
        return {}
    # ON CONFLICT DO NOTHING: concurrent intakes of the same indicator both succeed.
    now = timezone.now()
    insert_rows(Observable, ["kind", "value", "first_seen_at"], [(k, v, now) for k, v in sorted(pairs)], ignore_conflicts=True)
    found = {}
    kinds = {kind for kind, _ in pairs}
    for chunk in _chunks({value for _, value in pairs}):
        # Both columns, so the (kind, value) unique index answers it (value alone cannot use it).
        rows = Observable.objects.filter(kind__in=kinds, value__in=chunk).values_list("pk", "kind", "value")
        for pk, kind, value in rows:
            if (kind, value) in pairs:
                found[(kind, value)] = pk
    return found


def _waiting_groups_with(indicators: list[str], *, cutoff, lock: bool):
    """Return the waiting groups that hold any of ``indicators``, each with the ``indicator`` it matched.

    The indicators are looked up first (a materialised CTE on the ``(indicator, group_id)`` index),
    then their groups by primary key. Left to itself the planner starts from the groups whenever its
    statistics lag behind a fast-growing table (every new group is ``new``), and reads every
    waiting group for each batch: 90 ms a batch at 40,000 groups, growing with them.
    """
    indicator_table = connection.ops.quote_name(AlertGroupIndicator._meta.db_table)
    group_table = connection.ops.quote_name(AlertGroup._meta.db_table)
    # Lock in id order, so two correlators never wait on each other in a cycle.
    locking = " FOR UPDATE OF g" if lock and connection.features.has_select_for_update_of else ""
    sql = (
        f"WITH found AS MATERIALIZED (SELECT indicator, group_id FROM {indicator_table} "
        f"WHERE indicator IN ({', '.join(['%s'] * len(indicators))})) "
        f"SELECT g.*, found.indicator FROM found JOIN {group_table} g ON g.id = found.group_id "
        f"WHERE g.status = %s AND g.last_seen_at >= %s ORDER BY g.id{locking}"
    )
    return AlertGroup.objects.raw(sql, [*indicators, AlertGroup.Status.NEW, cutoff])


def _correlate(items: list[AlertData], observable_ids: dict, *, now) -> list[AlertGroup]:
    """Return the group of each item, in order: an existing waiting group (locked) or a new unsaved one."""
    cutoff = now - timedelta(minutes=settings.IRT_ALERT_CORRELATION_WINDOW_MINUTES)
    keyed = {item.correlation_key for item in items if item.correlation_key}
    keyless = [item for item in items if not item.correlation_key]
    wanted_observables = {observable_ids[pair] for item in keyless for pair in item.observables}
    wanted_resources = {resource for item in keyless for resource, _ in item.resources}

    by_observable: dict[int, int] = {}
    by_resource: dict[str, int] = {}
    wanted = [f"o:{pk}" for pk in wanted_observables] + [f"r:{resource}" for resource in wanted_resources]
    # Lock in id order (no deadlock between two intakes) and keep only groups still waiting: a
    # group promoted a moment ago takes no more alerts. Keyless alerts alone (the usual stream)
    # find and lock their groups in one statement; with keys too, one ordered lock covers both.
    lock_while_reading = not keyed
    locked: dict[int, AlertGroup] = {}
    for chunk in _chunks(wanted):
        rows = list(_waiting_groups_with(chunk, cutoff=cutoff, lock=lock_while_reading))
        if lock_while_reading:
            locked.update((group.pk, group) for group in rows)
        for indicator, group_id in [(group.indicator, group.pk) for group in rows]:
            kind, _, value = indicator.partition(":")
            target, key = (by_observable, int(value)) if kind == "o" else (by_resource, value)
            target[key] = min(group_id, target.get(key, group_id))

    candidate_ids = set(by_observable.values()) | set(by_resource.values())
    if keyed:
        queryset = AlertGroup.objects.select_for_update().filter(status=AlertGroup.Status.NEW)
        condition = Q(pk__in=candidate_ids) | Q(correlation_key__in=keyed)
        locked = {group.pk: group for group in queryset.filter(condition).order_by("pk")}
    by_key = {group.correlation_key: group for group in locked.values() if group.correlation_key in keyed}

    batch_observable: dict[int, AlertGroup] = {}
    batch_resource: dict[str, AlertGroup] = {}
    groups = []
    for item in items:
        group = None
        if item.correlation_key:
            group = by_key.get(item.correlation_key)
        else:
            found = [locked[gid] for gid in
                     [by_observable.get(observable_ids[p]) for p in item.observables] + [by_resource.get(r) for r, _ in item.resources]
                     if gid in locked]
            found += [batch_observable[observable_ids[p]] for p in item.observables if observable_ids[p] in batch_observable]
            found += [batch_resource[r] for r, _ in item.resources if r in batch_resource]
            if found:
                group = min(found, key=lambda g: (g.pk is None, g.pk or 0, g.first_seen_at))
        if group is None:
            group = AlertGroup(title=item.title, correlation_key=item.correlation_key, severity=item.severity,
                               severity_rank=SEVERITY_RANK[item.severity], first_seen_at=item.observed_at,
                               last_seen_at=now, alert_count=0)
            if item.correlation_key:
                by_key[item.correlation_key] = group
        if group.pk is None:
            group.alert_count += 1
            group.severity = highest_severity(group.severity, item.severity)
            group.severity_rank = SEVERITY_RANK[group.severity]
            group.first_seen_at = min(group.first_seen_at, item.observed_at)
        for pair in item.observables:
            batch_observable.setdefault(observable_ids[pair], group)
        for resource, _ in item.resources:
            batch_resource.setdefault(resource, group)
        groups.append(group)
    return groups


def _refresh_existing_groups(groups: list[AlertGroup], items: list[AlertData], *, new: set[int], now) -> None:
    """Fold the new alerts into the waiting groups they joined (new groups were built complete)."""
    added: dict[int, list[AlertData]] = defaultdict(list)
    for group, item in zip(groups, items):
        if id(group) not in new:
            added[group.pk].append(item)
    if not added:
        return
    # One statement for every group the batch joined, however many.
    alert_count, severity, severity_rank, first_seen_at = [], [], [], []
    for group in {g.pk: g for g in groups if g.pk in added}.values():
        joined = added[group.pk]
        highest = highest_severity(group.severity, *(item.severity for item in joined))
        alert_count.append(When(pk=group.pk, then=F("alert_count") + len(joined)))
        severity.append(When(pk=group.pk, then=Value(highest)))
        severity_rank.append(When(pk=group.pk, then=Value(SEVERITY_RANK[highest])))
        first_seen_at.append(When(pk=group.pk, then=Value(min([group.first_seen_at, *(item.observed_at for item in joined)]))))
    AlertGroup.objects.filter(pk__in=list(added)).update(
        alert_count=Case(*alert_count), severity=Case(*severity), severity_rank=Case(*severity_rank),
        first_seen_at=Case(*first_seen_at), last_seen_at=now,
    )
    forget_queue_data()  # the groups' counts and severities show on the dashboard
