"""An organisation's private feeds for its own tools: Atom (RFC 4287) and JSON, behind its rotatable read token.

The token travels as ``Authorization: Bearer <token>`` or, for feed readers that cannot send a
header, as ``?token=``; an unknown or rotated token is a 404. What a feed shows follows the
portal's privacy rules exactly: the incidents of ``organization_incidents`` (the filter behind
``customer_incidents``), their published updates with the times each states (the portal's
``INCIDENT_TIMES``), and the organisation's own impact row
(``AffectedCustomer.objects.impact_seen_by``). Responses carry an ETag over every incident's
timeline head, which moves with every customer-visible change, and answer ``If-None-Match``
with 304. They are ``Cache-Control: private``: never for a shared cache.
"""

from datetime import UTC

from django.contrib.syndication.views import Feed
from django.http import JsonResponse
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.views.decorators.cache import cache_control
from django.views.decorators.http import condition, require_safe
from django.views.decorators.vary import vary_on_headers

from cases.access.lookups import get_organization_for_feed_token
from cases.access.querysets import organization_incidents
from cases.models import AffectedCustomer, IncidentUpdate
from cases.selectors.reports import iso_times
from cases.views.lessons import _etag, site_url
from cases.views.portal import INCIDENT_TIMES

FEED_ENTRIES = 100


def _token(request) -> str:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.GET.get("token", "")


def _organization(request):
    return get_organization_for_feed_token(_token(request))


def _times(update) -> dict:
    return {name: getattr(update, name) for name in INCIDENT_TIMES}


def _times_line(update) -> str:
    """Return the update's times as one line a person reads, labelled as its approver saw them; "" when it states none.

    A start without an end reads as ongoing, as on the incident page.
    """
    parts = []
    for name, moment in _times(update).items():
        label = IncidentUpdate._meta.get_field(name).verbose_name
        if moment:
            parts.append(f"{label}: {moment.astimezone(UTC):%Y-%m-%d %H:%M}")
        elif name == "impact_ended_at" and update.impact_started_at:
            parts.append(f"{label}: ongoing")
    return " · ".join(parts)


def _updates(organization):
    return (IncidentUpdate.objects.published().filter(case__in=organization_incidents(organization.pk))
            .select_related("case").order_by("-published_at", "-id"))


def _feed_etag(request, *args) -> str:
    organization = _organization(request)
    heads = sorted(organization_incidents(organization.pk).values_list("reference", "timeline_head"))
    return _etag(request.resolver_match.url_name, organization.pk, organization.feed_token_hash, heads)


def _private_feed(view):
    return require_safe(cache_control(private=True, no_cache=True)(vary_on_headers("Authorization")(
        condition(etag_func=_feed_etag)(view))))


class OrganizationFeed(Feed):
    feed_type = Atom1Feed
    # RFC 4287 §4.1.1: a feed whose entries name no author names one itself.
    author_name = "Security Incident Response Team"

    def get_object(self, request, *args, **kwargs):
        return _organization(request)

    def title(self, organization):
        return f"Security incidents affecting {organization.name}"

    def link(self, organization):
        return site_url(reverse("portal:index"))

    def feed_url(self, organization):
        return site_url(reverse("portal:feed-atom"))

    def feed_guid(self, organization):
        return site_url(reverse("portal:feed-atom")) + f"#{organization.slug}"

    def items(self, organization):
        return _updates(organization)[:FEED_ENTRIES]

    def item_title(self, item):
        return f"{item.case.reference}: {item.public_title} ({item.get_status_display()})"

    def item_link(self, item):
        return site_url(reverse("portal:incident", args=[item.case.reference]))

    def item_guid(self, item):
        return self.item_link(item) + f"#update-{item.pk}"

    def item_description(self, item):
        parts = [_times_line(item), item.what_happened, item.what_we_know, item.what_we_are_doing, item.what_you_should_do]
        return "\n\n".join(part for part in parts if part)

    def item_pubdate(self, item):
        return item.published_at

    def item_updateddate(self, item):
        return item.published_at


atom = _private_feed(OrganizationFeed())


def _impact(row) -> dict | None:
    if row is None:
        return None
    return {"data_impacts": row.data_impacts, "statement": row.impact_statement,
            "notified_at": row.notified_at.isoformat() if row.notified_at else None}


@_private_feed
def json_feed(request):
    organization = _organization(request)
    incidents = {}
    for update in _updates(organization):
        case = update.case
        entry = incidents.setdefault(case.reference, {
            "reference": case.reference,
            "url": site_url(reverse("portal:incident", args=[case.reference])),
            "impact": _impact(AffectedCustomer.objects.impact_seen_by(case=case, organization=organization)),
            "updates": [],
        })
        entry["updates"].append({
            "id": update.pk, "published_at": update.published_at.isoformat(), "status": update.status,
            "title": update.public_title, "what_happened": update.what_happened, "what_we_know": update.what_we_know,
            "what_we_are_doing": update.what_we_are_doing, "what_you_should_do": update.what_you_should_do,
            "affected_services": update.affected_services, **iso_times(_times(update)),
        })
    return JsonResponse({"organization": organization.slug, "incidents": list(incidents.values())},
                        json_dumps_params={"ensure_ascii": False})
