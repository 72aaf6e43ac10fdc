"""The lookups views use: 404 when the user may not know the object exists, 403 when they may not act."""

import functools
from typing import NamedTuple

from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, QuerySet, Subquery, TextField
from django.db.models.functions import Cast
from django.http import Http404

from cases.access.backends import joined_values, words
from cases.access.permissions import can_read_case_drafts, can_view_case, can_work_on_case, is_customer_admin
from cases.access.prepared import PreparedQuery
from cases.access.querysets import customer_incidents, organization_incidents, reads_incidents
from cases.models import Acknowledgement, Case, Organization, User
from cases.models.accounts import feed_token_digest
from irt.watched_reads import watched_reads


@functools.cache
def _case_with_member_ids() -> PreparedQuery:
    """The case by its reference, with its members' ids: what deciding access to it reads, in one query compiled once."""
    def build(reference):
        members = joined_values(Case.membership_rows(), "content_object", Cast("user_id", TextField()), "pk")
        return Case.objects.filter(reference=reference).annotate(joined_member_ids=members)

    return PreparedQuery(build, placeholders={"reference": "IRT-PREPARED-A"}, others={"reference": "IRT-PREPARED-B"})


def _read_case(reference: str):
    found = _case_with_member_ids().objects(reference=reference)
    if not found:
        raise Case.DoesNotExist
    case = found[0]
    case._member_ids = {int(word) for word in words(case.joined_member_ids)}
    return case


def get_case_for(user, reference: str, *, write: bool = False, queryset: QuerySet | None = None):
    """Return the case the user asked for: 404 if they may not know it, 403 if they may not act."""
    try:
        case = _read_case(reference) if queryset is None else queryset.get(reference=reference)
    except Case.DoesNotExist:
        raise Http404("No such case.") from None
    if not can_view_case(user, case):
        raise Http404("No such case.")
    if write and not can_work_on_case(case, user):
        raise PermissionDenied("You can read this case but not change it.")
    return case


def get_case_for_drafts(user, reference: str):
    """Return a case whose drafts and internal review the user reads: who writes them and who approves them.

    404 as ``get_case_for``; 403 for a reader of the case who does neither.
    """
    case = get_case_for(user, reference)
    if not can_read_case_drafts(case, user):
        raise PermissionDenied("Only who works on the case and who approves its texts read its drafts.")
    return case


def get_incident_for(user, reference: str):
    """Return the case for a customer's incident page; 404 whenever they may not read it."""
    case = customer_incidents(user).filter(reference=reference).first()
    if case is None:
        raise Http404("No such incident.")
    return case


class IncidentPageRow(NamedTuple):
    """What a customer's incident page reads of the case on every request."""

    pk: int
    reference: str
    timeline_head: str
    acknowledged_at: object  # when the reader acknowledged it, or None


def _incident_page_rows(*, organization_id, reference, user_id):
    acknowledged_at = Acknowledgement.objects.filter(case=OuterRef("pk"), user=user_id).values("acknowledged_at")[:1]
    return (organization_incidents(organization_id).filter(reference=reference).order_by()
            .annotate(acknowledged_at=Subquery(acknowledged_at))
            .values_list("pk", "reference", "timeline_head", "acknowledged_at")[:1])


# ``customer_incidents`` compiled once per process: the same rule, without building three subqueries per request.
_INCIDENT_PAGE_QUERY = PreparedQuery(
    _incident_page_rows,
    placeholders={"organization_id": -710_001, "reference": "IRT-PLACEHOLDER-A", "user_id": -710_002},
    others={"organization_id": -720_001, "reference": "IRT-PLACEHOLDER-B", "user_id": -720_002},
)


def get_incident_page_for(user, reference: str) -> IncidentPageRow:
    """Return what the incident page reads of the case, with the reader's acknowledgement, in one query.

    The same decision as ``get_incident_for`` (404 whenever the customer may not read it), taken on
    every request: ``customer_incidents``' gate in Python, its query prepared once (``prepared.py``).
    """
    if not reads_incidents(user):
        raise Http404("No such incident.")
    # Kept in this process until a table the query read changes (a grant, a confirmation, a publication, an
    # acknowledgement, the case's row): the same rows the database would answer, without asking it again.
    rows = watched_reads.kept_read(
        f"read:incident-page:{user.organization_id}:{user.pk}:{reference}",
        lambda: _INCIDENT_PAGE_QUERY.rows(organization_id=user.organization_id, reference=reference, user_id=user.pk))
    if not rows:
        raise Http404("No such incident.")
    return IncidentPageRow(*rows[0])


def get_organization_for_feed_token(token: str):
    """Return the organisation whose private-feed read token this is; 404 for a missing or unknown one.

    Only the token's SHA-256 is stored, so the lookup compares digests.
    """
    if not token or len(token) > 200:
        raise Http404("No such feed.")
    organization = Organization.objects.filter(feed_token_hash=feed_token_digest(token)).first()
    if organization is None:
        raise Http404("No such feed.")
    return organization


def get_member_for(admin, username: str):
    """Return a user of the customer administrator's own organisation; 404 for anyone else's."""
    member = User.objects.filter(organization_id=admin.organization_id, username=username).first()
    if member is None or not is_customer_admin(admin):
        raise Http404("No such user.")
    return member
