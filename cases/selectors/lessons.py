"""The public post-incident reviews and the version of what the public lessons pages show."""

import hashlib

from django.db.models import Count, Max

from cases.models import PublishedReview, RepairItem
from irt.middleware import PublishedVersion


def public_reviews():
    return PublishedReview.objects.published().filter(audience=PublishedReview.Audience.PUBLIC)


def stamp(*parts) -> str:
    """Return a short tag naming ``parts`` (an ETag's opaque value)."""
    return hashlib.sha256("|".join(str(part) for part in parts).encode()).hexdigest()[:32]


def _version_from_database() -> dict:
    """Return the version of every public lessons page: its tag, when it last changed, the public slugs.

    Counts and highest ids change when a review or repair item comes or goes, ``updated_at`` when
    one is edited, so any change to what the pages show changes the tag.
    """
    reviews = public_reviews()
    shown = reviews.aggregate(n=Count("id"), last=Max("id"), updated=Max("updated_at"), published=Max("published_at"))
    repairs = RepairItem.objects.filter(case__published_review__in=reviews).aggregate(
        n=Count("id"), last=Max("id"), updated=Max("updated_at"))
    moments = (shown["updated"], shown["published"], repairs["updated"])
    return {
        "tag": stamp(*shown.values(), *repairs.values()),
        "modified": max((moment for moment in moments if moment is not None), default=None),
        "slugs": frozenset(reviews.values_list("slug", flat=True)),
    }


# Drawn anew wherever a review or a repair item is saved or deleted (cases/receivers/lessons.py).
lessons_version = PublishedVersion("lessons", _version_from_database)
