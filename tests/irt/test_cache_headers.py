"""Public pages are the same for every reader; signed-in pages are never stored by a cache."""

import time

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils.cache import cc_delim_re

from cases.models import Case
from cases.services import communications
from cases.services import sessions
from tests.factories import StaffFactory, case_in_stage

pytestmark = pytest.mark.django_db

READERS = ["anonymous", "contoso_user", "responder", "manager", "admin"]


@pytest.fixture
def public_review(manager, comms):
    from cases.services import cases as case_services

    case = case_in_stage(Case.Status.STABILIZING, manager=manager)
    author = StaffFactory()
    case_services.add_member(case=case, by=manager, user=author)
    review = communications.save_published_review(
        case=case, by=author, title="Cross-account listing", impact_started_at=case.created_at,
        who_was_affected="Some storage customers.", what_happened="Listings were exposed.",
        what_went_wrong="A policy release inverted a rule.", how_we_responded="Rolled back.", audience="public",
    )
    return communications.approve_published_review(review=review, by=comms)


def public_urls(review):
    return [reverse("lessons:index"), reverse("lessons:detail", args=[review.slug]), reverse("lessons:feed")]


def sign_in(client, request, reader):
    if reader == "anonymous":
        return None
    user = request.getfixturevalue(reader)
    client.force_login(user)
    # A stale last-seen stamp: the old code rewrote it (and the session cookie) on any page.
    session = client.session
    session[sessions.LAST_SEEN_KEY] = int(time.time()) - 5 * 60
    session.save()
    return user


def varies_on_cookie(response) -> bool:
    return "cookie" in {value.strip().lower() for value in cc_delim_re.split(response.get("Vary", ""))}


@pytest.mark.parametrize("reader", READERS)
def test_public_pages_set_no_cookie_and_do_not_vary_on_one_for_any_reader(client, request, public_review, reader):
    sign_in(client, request, reader)
    for url in public_urls(public_review):
        response = client.get(url)
        assert response.status_code == 200, url
        assert not response.cookies, (url, list(response.cookies))
        assert not response.has_header("Set-Cookie")
        assert not varies_on_cookie(response), (url, response.get("Vary"))
        cache_control = response["Cache-Control"]
        assert "public" in cache_control and "max-age=300" in cache_control, (url, cache_control)
        assert "private" not in cache_control and "no-store" not in cache_control


@pytest.mark.parametrize("reader", READERS)
def test_public_page_not_modified_answer_is_public_too(client, request, public_review, reader):
    sign_in(client, request, reader)
    first = client.get(reverse("lessons:index"))
    again = client.get(reverse("lessons:index"), HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert not again.cookies and not varies_on_cookie(again) and "public" in again["Cache-Control"]


def test_staff_reading_public_pages_keeps_the_last_seen_stamp_unchanged(client, manager, public_review):
    client.force_login(manager)
    session = client.session
    stamp = int(time.time()) - 5 * 60
    session[sessions.LAST_SEEN_KEY] = stamp
    session.save()
    client.get(reverse("lessons:index"))
    assert client.session[sessions.LAST_SEEN_KEY] == stamp
    # A signed-in page still counts as activity: the idle timeout keeps working.
    client.get(reverse("cases:dashboard"))
    assert client.session[sessions.LAST_SEEN_KEY] > stamp


@pytest.mark.parametrize(
    "reader, url_name",
    [("responder", "cases:dashboard"), ("responder", "cases:list"), ("manager", "notifications:deliveries"),
     ("contoso_user", "portal:index"), ("contoso_user", "notifications:inbox"), ("admin", "cases:list")],
)
def test_signed_in_pages_are_private_and_never_stored(client, request, reader, url_name):
    sign_in(client, request, reader)
    response = client.get(reverse(url_name))
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"


def test_signed_in_redirects_and_refusals_are_private_and_never_stored(client, contoso_user, responder):
    client.force_login(contoso_user)
    redirect = client.get(reverse("cases:dashboard"))
    assert redirect.status_code == 302 and redirect["Cache-Control"] == "private, no-store"
    client.force_login(responder)
    refused = client.get(reverse("notifications:deliveries"))
    assert refused.status_code == 403 and refused["Cache-Control"] == "private, no-store"


def test_sign_in_answer_is_private_and_never_stored(client, contoso_user):
    response = client.post(reverse("login"), {"username": contoso_user.username, "password": "correct-horse-battery-staple"})
    assert response.status_code == 302 and settings.SESSION_COOKIE_NAME in response.cookies
    # The sign-in view sets its own, stricter never-cache header; it is kept.
    directives = {value.strip() for value in cc_delim_re.split(response["Cache-Control"])}
    assert {"private", "no-store"} <= directives


def test_anonymous_health_check_does_not_load_the_session_or_vary_on_cookie(client):
    response = client.get(reverse("healthz"))
    assert not response.cookies and not varies_on_cookie(response)
