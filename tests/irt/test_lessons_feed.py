"""The lessons Atom feed is valid Atom (RFC 4287), cacheable, and never built on the request's Host."""

import feedparser
import pytest
from django.urls import reverse
from django.utils.http import http_date

from tests.irt.test_cache_headers import public_review  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"


def fetch(client, **headers):
    return client.get(reverse("lessons:feed"), **headers)


def test_the_feed_parses_as_atom_with_every_element_rfc_4287_requires(client, public_review, settings):  # noqa: F811
    response = fetch(client)
    assert response.status_code == 200 and response["Content-Type"].startswith("application/atom+xml")
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    feed = parsed.feed
    # §4.1.1: atom:feed has exactly one id, title and updated, and an author (no entry has one).
    assert feed.id and feed.title and feed.updated
    assert feed.author_detail.name == "Security Incident Response Team"
    assert any(link.rel == "self" for link in feed.links)
    [entry] = parsed.entries
    # §4.1.2: atom:entry has exactly one id, title and updated.
    assert entry.id == f"{settings.IRT_SITE_URL}/lessons/{public_review.slug}/"
    assert entry.title == public_review.title and entry.link == entry.id
    assert entry.updated_parsed >= entry.published_parsed


def test_an_entry_is_never_updated_before_it_was_published(client, public_review):  # noqa: F811
    public_review.refresh_from_db()
    parsed = feedparser.parse(fetch(client).content)
    [entry] = parsed.entries
    assert entry.updated_parsed >= entry.published_parsed
    assert parsed.feed.updated_parsed >= entry.published_parsed


def test_ids_and_links_come_from_the_site_url_not_the_host_header(client, public_review, settings):  # noqa: F811
    settings.ALLOWED_HOSTS = ["*"]
    forged = fetch(client, HTTP_HOST="attacker.example").content
    honest = fetch(client).content
    assert b"attacker.example" not in forged
    assert forged == honest
    parsed = feedparser.parse(forged)
    assert parsed.feed.id.startswith(settings.IRT_SITE_URL)
    assert all(link.href.startswith(settings.IRT_SITE_URL) for link in parsed.feed.links)


def test_the_feed_has_an_etag_and_last_modified_and_answers_304(client, public_review):  # noqa: F811
    response = fetch(client)
    etag, last_modified = response["ETag"], response["Last-Modified"]
    assert etag and last_modified
    assert "public" in response["Cache-Control"]
    assert fetch(client, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert fetch(client, HTTP_IF_MODIFIED_SINCE=last_modified).status_code == 304
    assert fetch(client, HTTP_IF_MODIFIED_SINCE=http_date(0)).status_code == 200
