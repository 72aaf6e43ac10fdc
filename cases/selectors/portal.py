"""Reads of the customer portal's index and incident page that run on every request (issue 18).

The list of incidents is decided on every request by the access rule itself (``organization_incidents``,
compiled once per process: ``cases.access.prepared``); only the organisation's name is kept, with a
generation that any save or deletion of the organisation moves (``cases.receivers.portal``).
"""

from django.db import DEFAULT_DB_ALIAS
from django.db.models import Exists, Max, OuterRef

from cases.access.prepared import PreparedQuery
from cases.access.querysets import organization_incidents, reads_incidents
from cases.models import Acknowledgement, Organization
from irt.cache import Generations
from irt.watched_reads import watched_reads

organization_names = Generations("portal-organization-name")

# The portal index shows this many incidents a page.
INDEX_PAGE_SIZE = 25


def reader_organization(user) -> Organization:
    """Return the reader's organisation with its name kept in the cache; any other field is read from the database when asked.

    The navigation of every customer page shows the name, so it is the one field kept.
    """
    organization_id = user.organization_id
    name = organization_names.get(organization_id, lambda: Organization.objects.values_list("name", flat=True).get(pk=organization_id))
    # Only ``id`` and ``name`` are loaded; Django reads a deferred field from the database on first use, never a default.
    return Organization.from_db(DEFAULT_DB_ALIAS, ["id", "name"], [organization_id, name])


def forget_organization(organization_id) -> None:
    organization_names.forget([organization_id])


def _first_index_rows(*, organization_id, user_id):
    return (organization_incidents(organization_id)
            .annotate(last_published=Max("updates__published_at"),
                      acknowledged=Exists(Acknowledgement.objects.filter(case=OuterRef("pk"), user=user_id)))
            .order_by("-last_published", "-pk")
            .values_list("pk", "reference", "timeline_head", "last_published", "acknowledged")[:INDEX_PAGE_SIZE + 1])


_FIRST_INDEX_QUERY = PreparedQuery(
    _first_index_rows,
    placeholders={"organization_id": -730_001, "user_id": -730_002},
    others={"organization_id": -740_001, "user_id": -740_002},
)


def first_index_rows(user) -> list[tuple]:
    """Return the first page of the reader's incidents and one more, newest update first, in one query.

    Each row: ``(pk, reference, timeline_head, last_published, acknowledged)``, acknowledged by the reader.
    The same rows, order and access rule as the index's queryset (``customer_incidents``).
    """
    if not reads_incidents(user):
        return []
    # Kept in this process until a table the query read changes, as the incident page's row is (``get_incident_page_for``).
    return watched_reads.kept_read(f"read:first-index-rows:{user.organization_id}:{user.pk}",
                                   lambda: _FIRST_INDEX_QUERY.rows(organization_id=user.organization_id, user_id=user.pk))
