"""Customer-facing updates, reviews, repair items, acknowledgements and the lessons pages."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models.exceptions import ActionRefused, NotAllowed
from cases.models import Acknowledgement, Case, IncidentUpdate, TimelineEvent
from cases.services import breach, communications
from tests.html_safety import active_content
from tests.factories import AffectedCustomerFactory, StaffFactory, case_in_stage

def without_csrf(content: bytes) -> bytes:
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", content)


REVIEW = {
    "title": "Listing exposure", "impact_started_at": timezone.now() - timedelta(days=2),
    "who_was_affected": "Some storage customers.", "what_happened": "Listings were exposed.",
    "what_went_wrong": "A rule was inverted.", "how_we_responded": "Rolled back.",
}


@pytest.fixture
def incident(manager, responder, contoso):
    case = case_in_stage(Case.Status.DIAGNOSING, manager=manager)
    from cases.services import cases as case_services

    case_services.add_member(case=case, by=manager, user=responder)
    AffectedCustomerFactory(case=case, by=manager, organization=contoso, impact_statement="Three objects were read.")
    return case


def publish(case, author, approver, **fields):
    update = communications.draft_update(case=case, by=author, public_title=fields.pop("public_title", "Storage exposure"),
                                         what_happened=fields.pop("what_happened", "Objects were read."), **fields)
    return communications.approve_update(update=update, by=approver)


def test_comms_approves_a_responders_update_and_it_is_published(incident, responder, comms):
    update = publish(incident, responder, comms)
    assert update.is_published and update.approved_by == comms
    kinds = list(incident.timeline.values_list("kind", flat=True))
    assert TimelineEvent.Kind.UPDATE_DRAFTED in kinds and TimelineEvent.Kind.UPDATE_PUBLISHED in kinds


def test_author_cannot_approve_their_own_update(incident, manager):
    update = communications.draft_update(case=incident, by=manager, public_title="T", what_happened="W")
    with pytest.raises(ActionRefused, match="someone else"):
        communications.approve_update(update=update, by=manager)
    update.refresh_from_db()
    assert not update.is_published


def test_author_approving_their_published_update_again_hears_it_is_published(incident, manager, comms):
    """Every four-eyes approval answers a repeat with "already" before "someone else" (services.approval)."""
    update = publish(incident, manager, comms)
    with pytest.raises(ActionRefused, match="already published"):
        communications.approve_update(update=update, by=manager)


def test_responder_cannot_approve_updates(incident, manager, responder):
    update = communications.draft_update(case=incident, by=manager, public_title="T", what_happened="W")
    with pytest.raises(NotAllowed):
        communications.approve_update(update=update, by=responder)


def test_published_update_is_never_edited_and_a_correction_says_so(client, incident, responder, comms, contoso_user):
    first = publish(incident, responder, comms, what_happened="Five objects were read.")
    with pytest.raises(ActionRefused, match="already published"):
        communications.approve_update(update=first, by=comms)
    correction = communications.draft_update(case=incident, by=responder, corrects=first, public_title="Storage exposure",
                                             what_happened="Three objects were read, not five.")
    communications.approve_update(update=correction, by=comms)
    first.refresh_from_db()
    assert first.what_happened == "Five objects were read."
    client.force_login(contoso_user)
    page = client.get(reverse("portal:incident", args=[incident.reference])).content.decode()
    assert "Correction" in page and "Three objects were read, not five." in page


def test_correction_must_name_a_published_update_of_the_same_case(incident, responder, manager):
    draft = communications.draft_update(case=incident, by=responder, public_title="T", what_happened="W")
    with pytest.raises(ActionRefused, match="correction"):
        communications.draft_update(case=incident, by=responder, corrects=draft, public_title="T2", what_happened="W2")


def test_customer_sees_incident_only_after_an_update_is_published(client, incident, responder, comms, contoso_user):
    client.force_login(contoso_user)
    assert client.get(reverse("portal:incident", args=[incident.reference])).status_code == 404
    assert incident.reference.encode() not in client.get(reverse("portal:index")).content
    publish(incident, responder, comms)
    assert client.get(reverse("portal:incident", args=[incident.reference])).status_code == 200
    assert incident.reference.encode() in client.get(reverse("portal:index")).content


def test_fabrikam_gets_404_for_contoso_incident_same_as_for_a_missing_one(client, incident, responder, comms, fabrikam_user):
    publish(incident, responder, comms)
    client.force_login(fabrikam_user)
    theirs = client.get(reverse("portal:incident", args=[incident.reference]))
    missing = client.get(reverse("portal:incident", args=["IRT-2099-9999"]))
    assert theirs.status_code == missing.status_code == 404
    assert without_csrf(theirs.content) == without_csrf(missing.content)


def test_withdrawing_an_organisation_revokes_its_incident_page(client, incident, responder, comms, contoso_user, manager):
    publish(incident, responder, comms)
    row = incident.affected_customers.get()
    breach.withdraw_affected_customer(row=row, by=manager, reason="Their bucket was in another region.")
    client.force_login(contoso_user)
    assert client.get(reverse("portal:incident", args=[incident.reference])).status_code == 404


def test_acknowledgement_is_recorded_once_per_user_with_time(client, incident, responder, comms, contoso_user):
    publish(incident, responder, comms)
    client.force_login(contoso_user)
    url = reverse("portal:acknowledge", args=[incident.reference])
    assert client.post(url).status_code == 302
    assert client.post(url).status_code == 302
    acknowledgement = Acknowledgement.objects.get(case=incident, user=contoso_user)
    assert acknowledgement.acknowledged_at is not None
    assert b"You acknowledged this" in client.get(reverse("portal:incident", args=[incident.reference])).content


@pytest.mark.parametrize("field", ["public_title", "what_happened", "what_we_know", "what_we_are_doing", "what_you_should_do", "affected_services"])
@pytest.mark.parametrize("attack", [
    "<script>alert('x')</script>",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    '"><svg onload=alert(1)>',
    "<a href='data:text/html,<script>alert(1)</script>'>x</a>",
])
def test_xss_in_customer_visible_update_fields_is_inert(client, incident, responder, comms, contoso_user, field, attack):
    fields = {"public_title": "Title", "what_happened": "Happened", field: attack}
    update = communications.draft_update(case=incident, by=responder, **fields)
    communications.approve_update(update=update, by=comms)
    client.force_login(contoso_user)
    for url in (reverse("portal:incident", args=[incident.reference]), reverse("portal:index")):
        assert active_content(client.get(url).content.decode()) == []


def test_xss_in_impact_statement_is_inert(client, manager, responder, comms, fabrikam, fabrikam_user):
    case = case_in_stage(Case.Status.DIAGNOSING, manager=manager)
    AffectedCustomerFactory(case=case, by=manager, organization=fabrikam, impact_statement="<script>alert(1)</script>[x](javascript:alert(1))")
    publish(case, manager, comms)
    client.force_login(fabrikam_user)
    assert active_content(client.get(reverse("portal:incident", args=[case.reference])).content.decode()) == []


def test_customer_review_is_four_eyes_and_affected_only_reviews_stay_off_public_pages(client, incident, responder, manager, comms, contoso_user):
    publish(incident, responder, comms)
    review = communications.save_published_review(case=incident, by=manager, **REVIEW)
    with pytest.raises(ActionRefused, match="someone else"):
        communications.approve_published_review(review=review, by=manager)
    with pytest.raises(NotAllowed):
        communications.approve_published_review(review=review, by=responder)
    communications.approve_published_review(review=review, by=comms)
    assert client.get(reverse("lessons:index")).content.count(b"Listing exposure") == 0
    assert client.get(reverse("lessons:feed")).content.count(b"Listing exposure") == 0
    assert client.get(reverse("lessons:detail", args=[review.slug])).status_code == 404
    client.force_login(contoso_user)
    assert b"Listing exposure" in client.get(reverse("portal:incident", args=[incident.reference])).content


def test_public_review_is_readable_anonymously_with_feed_and_cache_headers(client, incident, responder, comms):
    review = communications.save_published_review(case=incident, by=responder, **{**REVIEW, "audience": "public"})
    item = communications.add_repair_item(case=incident, by=responder, title="Canary for inverted rules")
    communications.approve_published_review(review=review, by=comms)
    response = client.get(reverse("lessons:detail", args=[review.slug]))
    assert response.status_code == 200
    assert "public" in response["Cache-Control"] and "max-age=300" in response["Cache-Control"]
    assert response.has_header("ETag")
    assert "Cookie" not in response.get("Vary", "")
    assert "Set-Cookie" not in response.headers
    assert client.get(reverse("lessons:detail", args=[review.slug]), HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
    feed = client.get(reverse("lessons:feed"))
    assert feed["Content-Type"].startswith("application/atom+xml") and b"Listing exposure" in feed.content
    # A repair item's status change shows on the published page (and changes the ETag).
    communications.set_repair_status(item=item, by=responder, status="done")
    changed = client.get(reverse("lessons:detail", args=[review.slug]), HTTP_IF_NONE_MATCH=response["ETag"])
    assert changed.status_code == 200 and b"Done" in changed.content


def test_repair_items_stay_editable_after_close(manager):
    case = case_in_stage(Case.Status.CLOSED, manager=manager)
    item = communications.add_repair_item(case=case, by=manager, title="Rotate signing keys quarterly")
    assert communications.set_repair_status(item=item, by=manager, status="in_progress").status == "in_progress"


def test_non_member_responder_cannot_draft(incident):
    outsider = StaffFactory()
    with pytest.raises(NotAllowed):
        communications.draft_update(case=incident, by=outsider, public_title="T", what_happened="W")
    assert not IncidentUpdate.objects.filter(case=incident).exists()


@pytest.mark.parametrize("updates", [1, 40])
def test_incident_page_and_portal_list_run_the_same_queries_for_one_update_or_forty(client, manager, comms, contoso, contoso_user, updates, django_assert_num_queries):
    for n in range(3):
        case = case_in_stage(Case.Status.DIAGNOSING, manager=manager)
        AffectedCustomerFactory(case=case, by=manager, organization=contoso)
        for i in range(updates):
            publish(case, manager, comms, public_title=f"Update {i}")
    client.force_login(contoso_user)
    # One page of incidents: its rows are read with one more and nothing is counted (the list is paginated).
    with django_assert_num_queries(5):  # 6 before the session and the user were one query
        assert client.get(reverse("portal:index")).status_code == 200
    # Two of these record the reader's first view of the page (kept for exposure reports); two read the
    # organisation's questions and files; one reads the reader's follow-up email choice (issue 16, item 2).
    # The inbox badge's count is not among them: the list page above left it in the cache (issue 18).
    with django_assert_num_queries(12):  # 13 before the session and the user were one query
        assert client.get(reverse("portal:incident", args=[case.reference])).status_code == 200


def test_cached_incident_page_shows_a_new_update_at_once_and_keeps_acknowledgement_per_user(client, incident, responder, comms, contoso, contoso_user):
    from tests.factories import CustomerUserFactory

    publish(incident, responder, comms, what_happened="First finding.")
    url = reverse("portal:incident", args=[incident.reference])
    client.force_login(contoso_user)
    assert b"First finding." in client.get(url).content
    client.post(reverse("portal:acknowledge", args=[incident.reference]))
    publish(incident, responder, comms, public_title="Second", what_happened="Second finding.")
    page = client.get(url).content
    assert b"Second finding." in page and b"You acknowledged this" in page
    colleague = CustomerUserFactory(organization=contoso)
    client.force_login(colleague)
    page = client.get(url).content
    assert b"Second finding." in page and b"You acknowledged this" not in page


def test_a_public_page_is_rendered_once_per_version_and_shows_a_change_at_once(client, incident, responder, comms,
                                                                                django_assert_num_queries):
    review = communications.save_published_review(case=incident, by=responder, **{**REVIEW, "audience": "public"})
    item = communications.add_repair_item(case=incident, by=responder, title="Canary for inverted rules")
    communications.approve_published_review(review=review, by=comms)
    url = reverse("lessons:detail", args=[review.slug])
    first = client.get(url)
    # Another reader: the version and the page come from the cache, no query at all.
    with django_assert_num_queries(0):
        again = client.get(url)
    assert again.content == first.content and again["ETag"] == first["ETag"]
    communications.set_repair_status(item=item, by=responder, status="done")
    changed = client.get(url)
    assert changed["ETag"] != first["ETag"] and changed.content != first.content
