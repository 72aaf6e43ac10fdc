"""The public promise scorecard and its Atom feed: anonymous, the same for every reader, cacheable by a CDN."""

from django.contrib.syndication.views import Feed
from django.shortcuts import render
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.views.decorators.http import require_safe

from cases.selectors import scorecard as selectors
from cases.views.lessons import CACHE_SECONDS, _etag
from irt.middleware import public_page


def _scorecard_etag(request) -> str:
    return _etag(*selectors.fingerprint())


@require_safe
@public_page(max_age=CACHE_SECONDS, etag=_scorecard_etag)
def scorecard(request):
    return render(request, "portal/scorecard.html", {"quarters": selectors.scorecard(), "min_count": selectors.min_count()})


def describe(quarter: selectors.Quarter, min_count: int) -> str:
    """Return one quarter in words, saying "fewer than N" wherever a count is suppressed."""
    def count(measure, noun):
        return f"fewer than {min_count} {noun}" if measure.suppressed else f"{measure.count} {noun}"

    parts = [count(quarter.notices, "breach notices")]
    if quarter.notices.value is not None:
        parts.append(f"{quarter.notices.value}% delivered within the deadline, median {quarter.hours_to_notice.value:.1f} h")
    parts.append(count(quarter.corrections, "corrections published"))
    parts.append(count(quarter.repairs, "repair items completed"))
    if quarter.repairs.value is not None:
        parts.append(f"{quarter.repairs.value}% by their target date")
    return "; ".join(parts) + "."


class ScorecardFeed(Feed):
    feed_type = Atom1Feed
    title = "Promise scorecard"
    subtitle = "Per quarter: breach notices delivered within the deadline, corrections published, repair items completed."

    def link(self):
        return reverse("lessons:scorecard")

    def items(self):
        return selectors.scorecard()

    def item_title(self, item):
        return f"Scorecard {item.label}"

    def item_description(self, item):
        return describe(item, selectors.min_count())

    def item_link(self, item):
        return f"{reverse('lessons:scorecard')}#{item.key}"


feed = public_page(max_age=CACHE_SECONDS, etag=_scorecard_etag)(ScorecardFeed())
