"""Search across cases and alert groups: only ever among the rows the searcher may know about.

Prose (the title, the internal summary, notes, task titles, alert titles and descriptions) is
matched with PostgreSQL full-text search when the database is PostgreSQL (English stemming,
``websearch`` syntax: "quoted phrase", or, -not; the vectors are computed at query time, so no
stored index or migration), and as a case-insensitive substring on SQLite. Identifiers (the case
reference, observable values such as an IP address or a hash, organisation names) are substrings
on both, since stemming would break them apart.
"""

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet

from cases.access.querysets import visible_cases
from cases.models import AffectedCustomer, Alert, AlertGroup, Case, CaseObservable, Task, TimelineEvent
from cases.selectors.alerts import visible_groups
from cases.selectors.cases import severity_rank

MAX_QUERY_LENGTH = 200

# Where a case can match, in the order the results page names them: annotation, label.
WHERE = (
    ("in_reference", "reference"),
    ("in_title", "title"),
    ("in_summary", "internal summary"),
    ("in_notes", "notes"),
    ("in_tasks", "tasks"),
    ("in_organizations", "affected organisations"),
    ("in_observables", "observables"),
    ("in_alerts", "alerts"),
)


def uses_full_text() -> bool:
    """Return whether prose is matched with PostgreSQL full-text search (else by substring)."""
    return connection.vendor == "postgresql"


def prose_matches(queryset: QuerySet, fields: tuple[str, ...], query: str) -> QuerySet:
    """Return the rows of ``queryset`` whose prose ``fields`` match ``query``."""
    if uses_full_text():
        from django.contrib.postgres.search import SearchQuery, SearchVector

        vector = SearchVector(*fields, config="english")
        return queryset.annotate(search_vector=vector).filter(
            search_vector=SearchQuery(query, config="english", search_type="websearch")
        )
    match = Q()
    for field in fields:
        match |= Q(**{f"{field}__icontains": query})
    return queryset.filter(match)


def _matches(query: str) -> dict:
    """Return, per place a case can match, an ``Exists`` saying whether the outer case matches there."""
    case = OuterRef("pk")
    return {
        "in_reference": Exists(Case.objects.filter(pk=case, reference__icontains=query)),
        "in_title": Exists(prose_matches(Case.objects.filter(pk=case), ("title",), query)),
        "in_summary": Exists(prose_matches(Case.objects.filter(pk=case), ("internal_summary",), query)),
        "in_notes": Exists(prose_matches(TimelineEvent.objects.filter(case=case, kind=TimelineEvent.Kind.NOTE), ("text",), query)),
        "in_tasks": Exists(prose_matches(Task.objects.filter(case=case), ("title",), query)),
        "in_organizations": Exists(AffectedCustomer.objects.filter(case=case, organization__name__icontains=query)),
        "in_observables": Exists(CaseObservable.objects.filter(case=case, observable__value__icontains=query)),
        "in_alerts": Exists(prose_matches(Alert.objects.filter(group__case=case), ("title", "description"), query)),
    }


def matching(queryset: QuerySet, query: str) -> QuerySet:
    """Return the cases of ``queryset`` that match ``query`` anywhere, each annotated with where it matched."""
    matches = _matches(query)
    anywhere = Q()
    for name in matches:
        anywhere |= Q(**{name: True})
    return queryset.annotate(**matches).filter(anywhere)


def search_cases(user, query: str) -> QuerySet:
    """Return the cases ``user`` may know that match ``query`` anywhere: open ones first, then most severe, then newest.

    An empty query finds nothing.
    """
    query = (query or "").strip()[:MAX_QUERY_LENGTH]
    visible = visible_cases(user)
    if not query:
        return visible.none()
    return (
        matching(visible, query)
        .annotate(severity_rank=severity_rank(), still_open=Exists(Case.objects.open().filter(pk=OuterRef("pk"))))
        .select_related("owner")
        .order_by("-still_open", "severity_rank", "-detected_at", "-pk")
    )


def matched_in(case) -> list[str]:
    """Return the labels of the places an annotated search result matched."""
    return [label for name, label in WHERE if getattr(case, name, False)]


def search_alert_groups(user, query: str) -> QuerySet:
    """Return the alert groups ``user`` may see whose title, alerts or observables match ``query``."""
    query = (query or "").strip()[:MAX_QUERY_LENGTH]
    if not query:
        return visible_groups(user).none()
    group = OuterRef("pk")
    in_title = Exists(prose_matches(AlertGroup.objects.filter(pk=group), ("title",), query))
    in_alerts = Exists(prose_matches(Alert.objects.filter(group=group), ("title", "description"), query))
    in_observables = Exists(Alert.objects.filter(group=group, observables__value__icontains=query))
    return (
        visible_groups(user).filter(in_title | in_alerts | in_observables)
        .select_related("case").order_by("severity_rank", "-last_seen_at", "pk")
    )
