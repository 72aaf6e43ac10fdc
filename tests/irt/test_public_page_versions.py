"""Public lessons pages come from the cache at no query, and never stale after a change to what they show."""

import pytest
from django.urls import reverse

from cases.models import Case, PublishedReview, RepairItem
from cases.services import cases as case_services
from cases.services import communications
from tests.factories import StaffFactory, case_in_stage
from tests.irt.test_cache_headers import public_review  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db


def publish_review(manager, comms, title: str) -> PublishedReview:
    case = case_in_stage(Case.Status.STABILIZING, manager=manager)
    author = StaffFactory()
    case_services.add_member(case=case, by=manager, user=author)
    review = communications.save_published_review(
        case=case, by=author, title=title, impact_started_at=case.created_at, who_was_affected="Some customers.",
        what_happened="It happened.", what_went_wrong="A rule.", how_we_responded="Rolled back.", audience="public",
    )
    return communications.approve_published_review(review=review, by=comms)


def urls(review):
    return [reverse("lessons:index"), reverse("lessons:detail", args=[review.slug]), reverse("lessons:feed")]


def test_a_cached_public_page_costs_no_query_and_answers_304_to_its_etag(client, public_review, django_assert_num_queries):  # noqa: F811
    for url in urls(public_review):
        first = client.get(url)
        with django_assert_num_queries(0):
            again = client.get(url)
            not_modified = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
        assert again.status_code == 200 and again.content == first.content and again["ETag"] == first["ETag"]
        assert not_modified.status_code == 304 and "public" in not_modified["Cache-Control"]
        assert not not_modified.cookies and not again.cookies
        assert again["Content-Security-Policy"] == first["Content-Security-Policy"]


def test_a_new_publication_shows_at_once_on_every_lessons_page(client, manager, comms, public_review):  # noqa: F811
    before = {url: client.get(url) for url in urls(public_review)}
    client.get(reverse("lessons:index"))  # kept for the fast path
    publish_review(manager, comms, "Second outage")
    for url, old in before.items():
        response = client.get(url)
        assert response.status_code == 200 and response["ETag"] != old["ETag"], url
        assert client.get(url, HTTP_IF_NONE_MATCH=old["ETag"]).status_code == 200, url
    assert b"Second outage" in client.get(reverse("lessons:index")).content
    assert b"Second outage" in client.get(reverse("lessons:feed")).content


def test_a_repair_item_change_shows_at_once_on_the_review(client, manager, public_review):  # noqa: F811
    detail = reverse("lessons:detail", args=[public_review.slug])
    client.get(detail)
    client.get(detail)
    item = communications.add_repair_item(case=public_review.case, by=manager, title="Rotate the listing keys")
    assert b"Rotate the listing keys" in client.get(detail).content
    communications.set_repair_status(item=item, by=manager, status=RepairItem.Status.DONE)
    page = client.get(detail).content.decode()
    assert "Rotate the listing keys" in page and RepairItem.Status.DONE.label in page
    item.delete()
    assert b"Rotate the listing keys" not in client.get(detail).content


def test_a_review_taken_off_the_public_pages_is_gone_at_once(client, public_review):  # noqa: F811
    detail = reverse("lessons:detail", args=[public_review.slug])
    assert client.get(detail).status_code == 200 and client.get(detail).status_code == 200
    public_review.audience = PublishedReview.Audience.AFFECTED
    public_review.save()
    assert client.get(detail).status_code == 404
    assert public_review.title.encode() not in client.get(reverse("lessons:index")).content


def test_a_cached_public_page_still_refuses_a_host_the_site_does_not_serve(client, public_review):  # noqa: F811
    url = reverse("lessons:index")
    client.get(url)
    assert client.get(url).status_code == 200
    assert client.get(url, HTTP_HOST="evil.example").status_code == 400


def test_a_page_that_is_not_public_is_never_kept(client, contoso_user):
    client.force_login(contoso_user)
    client.get(reverse("portal:index"))
    client.logout()
    assert client.get(reverse("portal:index")).status_code == 302


def test_a_kept_public_page_goes_out_in_one_write(client, public_review):  # noqa: F811
    """The feed generator writes its XML in many small pieces; served again and again, each was a write to the socket."""
    for url in urls(public_review):
        client.get(url)
        again = client.get(url)
        assert len(again._container) == 1, f"{url} is kept as {len(again._container)} pieces"


@pytest.fixture
def cache_asked(monkeypatch):
    """Count the fast path's reads of the cache, from no path known yet."""
    from irt import middleware

    asked = []
    monkeypatch.setattr(middleware, "_NOT_PUBLIC_PATHS", {})
    real = middleware._kept_public_response
    monkeypatch.setattr(middleware, "_kept_public_response", lambda request, path: asked.append(request.path) or real(request, path))
    return asked


def test_a_page_that_is_not_public_asks_the_cache_for_a_kept_copy_only_once(client, contoso_user, cache_asked):
    client.force_login(contoso_user)
    for _ in range(3):
        assert client.get(reverse("portal:index")).status_code == 200
    client.get("/no-such-page/")
    client.get("/no-such-page/")
    assert cache_asked == [reverse("portal:index"), "/no-such-page/"]


def test_a_public_page_is_always_looked_for_in_the_cache(client, contoso_user, public_review, cache_asked):  # noqa: F811
    client.force_login(contoso_user)  # a signed-in reader too gets the kept copy
    for url in urls(public_review):
        first = client.get(url)
        again = client.get(url)
        assert again.content == first.content and not again.cookies
    assert cache_asked == [url for url in urls(public_review) for _ in range(2)]


def test_a_kept_public_page_is_read_with_its_version_in_one_round_trip(client, public_review, monkeypatch):  # noqa: F811
    """With Redis each cache call is a round trip: the kept response and its version's generation are asked for together."""
    from django.core.cache import cache

    from irt import middleware

    monkeypatch.setattr(middleware, "_VERSION_OF_PATH", {})
    calls = []

    class Counting:
        def __getattr__(self, name):
            calls.append(name)
            return getattr(cache, name)

    for url in urls(public_review):
        first = client.get(url)
        client.get(url)  # served kept: the path's version is learned
        monkeypatch.setattr(middleware, "cache", Counting())
        calls.clear()
        again = client.get(url)
        monkeypatch.setattr(middleware, "cache", cache)
        assert again.content == first.content and again["ETag"] == first["ETag"]
        assert calls == ["get_many"], f"{url}: {calls}"


def test_a_new_version_is_seen_through_the_one_round_trip(client, manager, comms, public_review):  # noqa: F811
    for url in urls(public_review):
        client.get(url)
        client.get(url)
    publish_review(manager, comms, "A second public review")
    assert b"A second public review" in client.get(reverse("lessons:index")).content
