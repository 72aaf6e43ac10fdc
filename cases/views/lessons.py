"""Public post-incident reviews: anonymous, cacheable by a CDN, with an Atom feed.

Only reviews published with the public audience appear; pages use a shell without any
per-user content so one cached copy serves everyone. The feed is valid Atom (RFC 4287): an
author, ``updated`` never before ``published``, and ids and links built on ``IRT_SITE_URL``,
never on the request's Host header, which any client can set and a CDN would then cache.
"""

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.views.decorators.http import require_safe

from cases.models import RepairItem
from cases.selectors.lessons import lessons_version, public_reviews
from cases.selectors.lessons import stamp as _etag  # noqa: F401 - the feeds' and the scorecard's tags
from irt.markdown import render_markdown
from irt.middleware import public_page

CACHE_SECONDS = 300


def _version(request) -> dict:
    """Return the lessons pages' version, read once per request from the cache (cases/selectors/lessons.py)."""
    if not hasattr(request, "_lessons_version"):
        request._lessons_version = lessons_version.get(request)
    return request._lessons_version


def _list_etag(request) -> str:
    return _version(request)["tag"]


def _list_last_modified(request):
    return _version(request)["modified"]


def _detail_etag(request, slug) -> str | None:
    version = _version(request)
    if slug not in version["slugs"]:
        return None  # not a public review: the view answers 404
    return _etag(version["tag"], slug)


@require_safe
@public_page(max_age=CACHE_SECONDS, etag=_list_etag)
def index(request):
    reviews = public_reviews().order_by("-published_at")
    return render(request, "portal/lessons_list.html", {"reviews": reviews})


@require_safe
@public_page(max_age=CACHE_SECONDS, etag=_detail_etag)
def detail(request, slug):
    review = get_object_or_404(public_reviews(), slug=slug)
    return render(request, "portal/lessons_detail.html", {"review": review, "repairs": list(RepairItem.objects.filter(case=review.case_id))})


def site_url(path: str) -> str:
    """Return ``path`` on the configured site, the same whichever Host a request named."""
    return settings.IRT_SITE_URL + path


class LessonsFeed(Feed):
    feed_type = Atom1Feed
    title = "Post-incident reviews"
    subtitle = "What we learned from security incidents, and what we repair."
    # RFC 4287 §4.1.1: a feed without an author on every entry must name one itself.
    author_name = "Security Incident Response Team"

    def link(self):
        return site_url(reverse("lessons:index"))

    def feed_url(self):
        return site_url(reverse("lessons:feed"))

    def items(self):
        return public_reviews().order_by("-published_at")[:50]

    def item_title(self, item):
        return item.title

    def item_link(self, item):
        return site_url(item.get_absolute_url())

    def item_guid(self, item):
        # The entry's permanent id (RFC 4287 §4.2.6); a review's slug never changes once published.
        return site_url(item.get_absolute_url())

    def item_description(self, item):
        return render_markdown(item.what_happened)

    def item_pubdate(self, item):
        return item.published_at

    def item_updateddate(self, item):
        # A review is published by a save that may leave ``updated_at`` behind ``published_at``.
        return max(moment for moment in (item.updated_at, item.published_at) if moment is not None)


feed = public_page(max_age=CACHE_SECONDS, etag=_list_etag, last_modified=_list_last_modified)(LessonsFeed())
