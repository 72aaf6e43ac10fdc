"""The portal's index and incident page kept per reader and version (issue 18): never another's, never stale.

Access is decided on every request by one prepared query (cases.access.prepared); what is kept is the
page's HTML under a key naming everything it shows (cases.views.kept_pages). Here: a revocation, a
withdrawal and a membership change take effect on the very next request; the key names the reader
and the organisation; the CSRF token, the acknowledgement, the overdue flag and messages stay per
request.
"""

import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cases.access.grants import revoke_incident_access
from cases.services import breach, communications, customer_questions
from cases.views import kept_pages
from tests.cases.services.test_customer_questions import incident  # noqa: F401 - fixture
from tests.factories import AffectedCustomerFactory, CustomerUserFactory

INDEX = reverse("portal:index")


def incident_url(case) -> str:
    return reverse("portal:incident", args=[case.reference])


def reader(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_revoked_grant_takes_effect_on_the_next_request(incident, contoso, contoso_user):
    client = reader(contoso_user)
    for _ in range(2):  # rendered, then kept
        assert client.get(incident_url(incident)).status_code == 200
        assert incident.reference in client.get(INDEX).content.decode()
    revoke_incident_access(incident, contoso)
    assert client.get(incident_url(incident)).status_code == 404
    assert incident.reference not in client.get(INDEX).content.decode()


def test_a_withdrawn_organisation_loses_the_page_on_the_next_request(incident, contoso, contoso_user, manager):
    client = reader(contoso_user)
    for _ in range(2):
        assert client.get(incident_url(incident)).status_code == 200
        client.get(INDEX)
    breach.withdraw_affected_customer(row=incident.affected_customers.get(organization=contoso), by=manager, reason="Not affected.")
    assert client.get(incident_url(incident)).status_code == 404
    assert incident.reference not in client.get(INDEX).content.decode()


def test_a_deactivated_reader_loses_the_kept_pages_on_the_next_request(incident, contoso_user):
    client = reader(contoso_user)
    for _ in range(2):
        client.get(incident_url(incident))
        client.get(INDEX)
    contoso_user.is_active = False
    contoso_user.save(update_fields=["is_active"])
    assert client.get(incident_url(incident)).status_code in (302, 404)
    assert incident.reference.encode() not in client.get(INDEX).content


def test_a_reader_moved_to_another_organisation_never_gets_the_first_ones_kept_pages(incident, contoso_user, fabrikam, manager):
    """Both organisations read the same incident with the same rows; after the move the reader sees only Fabrikam's."""
    AffectedCustomerFactory(case=incident, by=manager, organization=fabrikam)
    customer_questions.ask_question(case=incident, by=contoso_user, text="CONTOSO-QUESTION")
    client = reader(contoso_user)
    for _ in range(2):
        assert "CONTOSO-QUESTION" in client.get(incident_url(incident)).content.decode()
        assert "affecting Contoso" in client.get(INDEX).content.decode()
    contoso_user.organization = fabrikam
    contoso_user.save(update_fields=["organization"])
    page = client.get(incident_url(incident)).content.decode()
    assert "CONTOSO-QUESTION" not in page and "Contoso" not in page
    index = client.get(INDEX).content.decode()
    assert "affecting Fabrikam" in index and "Contoso" not in index


def test_two_readers_of_one_organisation_each_get_their_own_acknowledgement(incident, contoso, contoso_user):
    colleague = CustomerUserFactory(organization=contoso, first_name=contoso_user.first_name, last_name=contoso_user.last_name)
    communications.acknowledge(case=incident, user=contoso_user)
    mine, theirs = reader(contoso_user), reader(colleague)
    for _ in range(2):
        assert "You acknowledged this on" in mine.get(incident_url(incident)).content.decode()
        assert "You acknowledged this on" not in theirs.get(incident_url(incident)).content.decode()
        assert "Not yet" not in mine.get(INDEX).content.decode()
        assert "Not yet" in theirs.get(INDEX).content.decode()


def test_an_acknowledgement_shows_on_the_next_request_with_its_message_once(incident, contoso_user):
    client = reader(contoso_user)
    for _ in range(2):
        assert "Not yet" in client.get(INDEX).content.decode()
        assert "Tell us you have read this notice." in client.get(incident_url(incident)).content.decode()
    page = client.post(reverse("portal:acknowledge", args=[incident.reference]), follow=True).content.decode()
    assert "Thank you: your acknowledgement is recorded." in page and "You acknowledged this on" in page
    again = client.get(incident_url(incident)).content.decode()
    assert "You acknowledged this on" in again and "Thank you" not in again
    assert "Not yet" not in client.get(INDEX).content.decode()


def csrf_tokens(page: str) -> set[str]:
    return set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', page))


@pytest.mark.parametrize("path", ["index", "incident"])
def test_a_kept_page_carries_each_requests_own_csrf_token(incident, contoso, contoso_user, path):
    colleague = CustomerUserFactory(organization=contoso)
    url = INDEX if path == "index" else incident_url(incident)
    pages = {}
    for user in (contoso_user, colleague, contoso_user):
        client = Client(enforce_csrf_checks=True)
        user.refresh_from_db()  # signing out moves the user's session generation
        client.force_login(user)
        page = client.get(url).content.decode()
        assert "irt-kept-" not in page and "irt-subscription-csrf" not in page
        tokens = csrf_tokens(page)
        # One token masked for the whole response, the follow-up email form's (a slot of its own) included.
        assert len(tokens) == 1 and all(len(token) == 64 for token in tokens)
        assert page.count("csrfmiddlewaretoken") >= (3 if path == "incident" else 1)
        pages.setdefault(user, []).append(tokens)
        # The kept page's token is this session's: a form posted with it passes the CSRF check.
        logout = client.post(reverse("logout"), {"csrfmiddlewaretoken": next(iter(tokens))})
        assert logout.status_code == 302
    [first, second] = pages[contoso_user]
    assert not first & second and not first & pages[colleague][0]


def test_the_overdue_flag_follows_the_clock_on_a_kept_page(incident, manager, comms, contoso_user, monkeypatch):
    update = communications.draft_update(case=incident, by=manager, public_title="Listing exposure", what_happened="Readable.",
                                         next_update_by=timezone.now() + timedelta(hours=1))
    communications.approve_update(update=update, by=comms)
    client = reader(contoso_user)
    for _ in range(2):
        assert 'data-testid="next-update-overdue"' not in client.get(incident_url(incident)).content.decode()
    later = timezone.now() + timedelta(hours=2)
    monkeypatch.setattr("cases.views.portal.timezone.now", lambda: later)
    assert 'data-testid="next-update-overdue"' in client.get(incident_url(incident)).content.decode()


def test_an_organisation_renamed_shows_its_new_name_on_the_next_request(incident, contoso, contoso_user):
    client = reader(contoso_user)
    for _ in range(2):
        client.get(INDEX)
        client.get(incident_url(incident))
    contoso.name = "Contoso Renamed"
    contoso.save(update_fields=["name"])
    assert "affecting Contoso Renamed" in client.get(INDEX).content.decode()
    assert "Security incidents · Contoso Renamed" in client.get(incident_url(incident)).content.decode()


def test_a_follow_up_choice_shows_on_the_next_request_of_a_kept_page(incident, contoso_user):
    client = reader(contoso_user)
    for _ in range(2):
        page = client.get(incident_url(incident)).content.decode()
        assert '<option value="default" selected>As my email preferences say</option>' in page
    client.post(reverse("notifications:subscription"), {"incident": incident.reference, "mine": "skip", "back": "incident"})
    page = client.get(incident_url(incident)).content.decode()
    assert '<option value="skip" selected>Do not email me</option>' in page


def request_for(*, user_id=7, username="reader", full_name="Ann Reader", organization_id=3, organization_name="Contoso"):
    organization = SimpleNamespace(pk=organization_id, name=organization_name)
    user = SimpleNamespace(pk=user_id, username=username, get_full_name=lambda: full_name, is_customer_admin=False,
                           organization=organization)
    return SimpleNamespace(user=user, resolver_match=SimpleNamespace(view_name="portal:index"))


def test_the_kept_page_key_names_the_reader_and_the_organisation():
    """Fails if the reader or the organisation is taken out of the key: pages differing only there must never share one."""
    key = kept_pages.page_key(request_for(), "portal/index.html", ("rows",), {"inbox_unread": 0})
    for other in ({"user_id": 8}, {"username": "other"}, {"full_name": "Bob"}, {"organization_id": 4},
                  {"organization_name": "Fabrikam"}):
        assert kept_pages.page_key(request_for(**other), "portal/index.html", ("rows",), {"inbox_unread": 0}) != key
    assert kept_pages.page_key(request_for(), "portal/index.html", ("rows",), {"inbox_unread": 1}) != key
    assert kept_pages.page_key(request_for(), "portal/index.html", ("rows",), {"inbox_unread": 0}) == key
