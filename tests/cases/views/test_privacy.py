"""Promise 4, tested: no customer ever sees another customer's data or our internal notes.

Renders every customer-facing page, for every organisation and for anonymous readers, over the
demo data plus generated incidents that affect several organisations at once, and searches
each page for anything that must not be there.
"""

import html
import io

import pytest
from django.apps import apps
from django.core.management import call_command
from django.urls import reverse
from django.utils.html import escape

from cases.models import AffectedCustomer, Case, Organization, PostIncidentReview, TimelineEvent, User
from django.core.files.base import ContentFile

from cases.services import communications, evidence, timeline
from cases.services import review as review_services
from tests.factories import AffectedCustomerFactory, CustomerUserFactory, OrganizationFactory, StaffFactory, case_in_stage


def build_shared_incidents(manager, comms):
    """Generate incidents that affect several organisations, each with a private impact statement."""
    orgs = [Organization.objects.get(slug="contoso"), Organization.objects.get(slug="fabrikam"), OrganizationFactory(name="Northwind & O'Neil <Traders>", slug="northwind")]
    CustomerUserFactory(username="customer-northwind", organization=orgs[2])
    for n in range(2):
        case = case_in_stage(Case.Status.STABILIZING, manager=manager, internal_summary=f"INTERNAL-SUMMARY-{n}: O'Neil & <root> used key AKIA-SECRET-{n}")
        timeline.add_note(case=case, by=manager, text=f"INTERNAL-NOTE-{n}: O'Neil & <insider> in team blue")
        evidence.add_evidence(case=case, by=manager, content=ContentFile(b"pcap bytes"), original_name=f"EVIDENCE-{n}-O'Neil&<db>-memory.lime")
        for org in orgs[: n + 2]:
            AffectedCustomerFactory(case=case, by=manager, organization=org,
                                    impact_statement=f"PRIVATE-IMPACT-{org.slug}-{n}: O'Neil & <ops> read {org.slug}-data")
        update = communications.draft_update(case=case, by=manager, public_title=f"Storage incident {n}",
                                             what_happened="Some buckets were readable by another account.")
        communications.approve_update(update=update, by=comms)
        author = StaffFactory()
        from cases.services import cases as case_services

        case_services.add_member(case=case, by=manager, user=author)
        review_services.save_review(case=case, by=author, what_happened=f"INTERNAL-REVIEW-{n}: O'Neil & <root>", what_went_wrong=f"INTERNAL-CAUSE-{n}: O'Neil & <root>")
        public = communications.save_published_review(
            case=case, by=author, title=f"Review {n}", audience="public" if n else "affected",
            impact_started_at=case.detected_at, who_was_affected="Some storage customers.", what_happened="Buckets were readable.",
            what_went_wrong="A policy rule was inverted.", how_we_responded="We rolled back.",
        )
        communications.approve_published_review(review=public, by=comms)
        ask_and_send(case, orgs[: n + 2], answerer=manager, n=n)
    return orgs


def ask_and_send(case, orgs, *, answerer, n):
    """Each affected organisation asks a question (answered) and sends a file, each naming it (issue 16, item 6)."""
    from cases.services import customer_questions

    for org in orgs:
        asker = User.objects.filter(organization=org).order_by("pk").first()
        question = customer_questions.ask_question(case=case, by=asker, text=f"QUESTION-{org.slug}-{n}: O'Neil & <ops> asks")
        customer_questions.reply_to_question(question=question, by=answerer, text=f"ANSWER-{org.slug}-{n}: O'Neil & <ops> answer")
        customer_questions.upload_file(case=case, by=asker, content=ContentFile(b"GET / 200\n"),
                                       original_name=f"UPLOAD-{org.slug}-{n}-O'Neil&<ops>.log")


def forbidden_for(viewer_org) -> dict[str, str]:
    """Return text that must not appear on a page this organisation (None: anonymous) reads."""
    forbidden = {}
    for org in Organization.objects.exclude(pk=getattr(viewer_org, "pk", None)):
        forbidden[org.name] = f"other organisation's name ({org.name})"
    for row in AffectedCustomer.objects.exclude(organization=viewer_org).exclude(impact_statement=""):
        forbidden[row.impact_statement[:40]] = f"{row.organization.name}'s impact statement"
    for summary in Case.objects.exclude(internal_summary="").values_list("internal_summary", flat=True):
        forbidden[summary[:40]] = "an internal summary"
    for text in TimelineEvent.objects.filter(kind=TimelineEvent.Kind.NOTE).values_list("text", flat=True):
        forbidden[text[:40]] = "an internal timeline note"
    for review in PostIncidentReview.objects.all():
        forbidden[review.what_happened[:40]] = "the internal post-incident review"
        forbidden[review.what_went_wrong[:40]] = "the internal post-incident review"
    for user in User.objects.filter(organization__isnull=True).exclude(email=""):
        forbidden[user.email] = "a staff email address"
    # An organisation lists the files it sent itself (issue 16, item 6), and no other evidence.
    for name in (apps.get_model("cases", "Evidence").objects.exclude(customer_upload__organization=viewer_org)
                 .values_list("original_name", flat=True)):
        forbidden[name] = "an evidence file name"
    for question in apps.get_model("cases", "CustomerQuestion").objects.exclude(organization=viewer_org):
        forbidden[question.text[:40]] = "another organisation's question"
    for reply in apps.get_model("cases", "QuestionReply").objects.exclude(text=""):
        if reply.question.organization_id != getattr(viewer_org, "pk", None):
            forbidden[reply.text[:40]] = "a reply to another organisation"
        elif reply.published_at is None:
            forbidden[reply.text[:40]] = "a reply awaiting approval"
    return forbidden


def customer_pages(client, user) -> dict[str, str]:
    client.force_login(user)
    pages = {reverse("portal:index"): client.get(reverse("portal:index")).content.decode()}
    for reference in Case.objects.filter(affected_customers__organization=user.organization).values_list("reference", flat=True):
        response = client.get(reverse("portal:incident", args=[reference]))
        if response.status_code == 200:
            pages[response.request["PATH_INFO"]] = response.content.decode()
            # The customer report is the same promise on paper: its text is searched like a page.
            # Generating one writes a timeline row, so it is a POST (the page's button).
            report = client.post(reverse("portal:report", args=[reference]))
            assert report.status_code == 200
            pages[report.request["PATH_INFO"]] = pdf_text(report.content)
            # The notification pack, where the organisation received a breach notice (issue 16).
            pack = client.get(reverse("portal:pack-json", args=[reference]))
            if pack.status_code == 200:
                pages[pack.request["PATH_INFO"]] = pack.content.decode()
                pages[reverse("portal:pack-pdf", args=[reference])] = pdf_text(
                    client.post(reverse("portal:pack-pdf", args=[reference])).content)
    pages.update(customer_admin_pages(client, user))
    # The follow-up email choices name the organisation's incidents (issue 16, item 2).
    pages[reverse("notifications:preferences")] = client.get(reverse("notifications:preferences")).content.decode()
    return pages


def customer_admin_pages(client, user) -> dict[str, str]:
    """Return the pages a customer administrator reads (issue 16): organisation, webhooks, the private feeds."""
    from cases.access.permissions import is_customer_admin

    if not is_customer_admin(user):
        return {}
    urls = [reverse("portal:organization"), reverse("notifications:webhooks")]
    pages = {url: client.get(url).content.decode() for url in urls}
    token = client.post(reverse("portal:feed-token")).content.decode().split('data-testid="feed-token">')[1].split("<")[0]
    for name in ("portal:feed-atom", "portal:feed-json"):
        response = client.get(reverse(name), HTTP_AUTHORIZATION=f"Bearer {token}")
        assert response.status_code == 200
        pages[reverse(name)] = response.content.decode()
    return pages


def pdf_text(content: bytes) -> str:
    from pypdf import PdfReader

    # Lines joined with single spaces, so text the typesetter wrapped is still found whole.
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages).split())


def public_pages(client) -> dict[str, str]:
    client.logout()
    urls = [reverse("lessons:index"), reverse("lessons:feed"), reverse("lessons:scorecard"), reverse("lessons:scorecard-feed")]
    urls += [review.get_absolute_url() for review in apps.get_model("cases", "PublishedReview").objects.filter(audience="public", published_at__isnull=False)]
    return {url: client.get(url).content.decode() for url in urls}


def shows(page: str, text: str) -> bool:
    """Tell whether ``text`` appears on ``page`` raw, HTML-escaped, or in any other entity spelling.

    The planted secrets contain ``'``, ``&`` and ``<``, so a raw search alone would miss every escaped leak.
    """
    return bool(text) and (text in page or escape(text) in page or text in html.unescape(page))


def leaks(pages: dict[str, str], forbidden: dict[str, str]) -> list[str]:
    return [f"{url} shows {what}: {needle!r}" for url, page in pages.items() for needle, what in forbidden.items() if shows(page, needle)]


@pytest.fixture
def demo_world(db):
    call_command("seed_demo")
    manager = User.objects.get(username="manager")
    comms = User.objects.get(username="comms")
    build_shared_incidents(manager, comms)
    deliver_pending_notices()
    return manager


def deliver_pending_notices():
    """Deliver the demo breach notices, so Contoso has its awareness time and notification pack."""
    from notifications.models import Delivery
    from notifications.services.delivery import deliver

    for pk in Delivery.objects.filter(status=Delivery.Status.PENDING).exclude(channel=Delivery.Channel.INBOX).values_list("pk", flat=True):
        deliver(pk)


def test_the_leak_search_finds_planted_text_however_the_page_escapes_it():
    secret = "O'Neil & <root>"
    for spelling in (secret, escape(secret), "O&#39;Neil &amp; &lt;root&gt;", "O'Neil &amp; &lt;root>"):
        assert shows(f"<p>{spelling}</p>", secret), spelling
    assert not shows("<p>O'Neil and root</p>", secret)


def test_the_forbidden_list_covers_every_kind_of_private_text(demo_world):
    kinds = set(forbidden_for(Organization.objects.get(slug="contoso")).values())
    for kind in ("an internal summary", "an internal timeline note", "the internal post-incident review",
                 "a staff email address", "an evidence file name", "Fabrikam's impact statement",
                 "another organisation's question", "a reply to another organisation"):
        assert kind in kinds, f"the privacy check would not notice {kind}"


def test_no_customer_page_shows_another_customers_data_or_internal_text(client, demo_world):
    readers = User.objects.filter(organization__isnull=False).select_related("organization")
    assert readers.count() >= 3
    checked = reports = 0
    covered = set()
    for reader in readers:
        pages = customer_pages(client, reader)
        covered |= set(pages)
        assert len(pages) >= 2, f"{reader} sees no incident page; the test would prove nothing"
        assert leaks(pages, forbidden_for(reader.organization)) == []
        checked += len(pages)
        reports += sum(url.endswith("/report.pdf") for url in pages)
    assert checked >= 7
    assert reports >= 3, "no customer report was searched"
    assert any(url.endswith("/feed/json") for url in covered) and any(url.endswith("notification-pack.json") for url in covered), \
        "the customer administrators' pages or the notification pack were not searched"


def test_every_reader_sees_their_own_impact_statement(client, demo_world):
    for reader in User.objects.filter(organization__isnull=False).select_related("organization"):
        page = "".join(customer_pages(client, reader).values())
        for statement in AffectedCustomer.objects.filter(organization=reader.organization, case__updates__published_at__isnull=False).values_list("impact_statement", flat=True).distinct():
            assert shows(page, statement[:40]), f"{reader} does not see their own impact"


def test_public_pages_and_feed_show_no_customer_scoped_content(client, demo_world):
    pages = public_pages(client)
    assert len(pages) >= 4
    forbidden = forbidden_for(None)
    for review in apps.get_model("cases", "PublishedReview").objects.filter(audience="affected"):
        forbidden[review.title] = "an affected-only review"
    assert leaks(pages, forbidden) == []


def test_incident_times_and_subscriptions_show_only_to_the_affected_organisation(client, demo_world):
    """Issue 16, item 7 and 2: the case's impact window is internal until an update publishes it, to its organisations only."""
    from datetime import datetime, timedelta, timezone as tz

    from cases.services import cases as case_services
    from notifications.services import subscriptions

    manager, comms = demo_world, User.objects.get(username="comms")
    contoso, fabrikam = Organization.objects.get(slug="contoso"), Organization.objects.get(slug="fabrikam")
    case = (Case.objects.filter(affected_customers__organization=contoso, updates__published_at__isnull=False)
            .exclude(affected_customers__organization=fabrikam).distinct().first())
    started = datetime(2026, 7, 4, 3, 21, tzinfo=tz.utc)
    promised = (datetime.now(tz.utc) + timedelta(days=400)).replace(hour=7, minute=8, second=0, microsecond=0)
    case_services.update_case_details(case=case, by=manager, changes={"impact_started_at": started})
    contoso_user, fabrikam_user = User.objects.get(username="customer-contoso"), User.objects.get(username="customer-fabrikam")
    client.force_login(contoso_user)
    assert "2026-07-04 03:21" not in client.get(reverse("portal:incident", args=[case.reference])).content.decode(), \
        "the case's own impact window reached the portal without an approved update"

    update = communications.draft_update(case=case, by=manager, public_title="Times", what_happened="Known times.",
                                         impact_started_at=started, next_update_by=promised)
    communications.approve_update(update=update, by=comms)
    subscriptions.set_subscriptions(by=contoso_user, target=case, mine=False)
    contoso_page = "".join(customer_pages(client, contoso_user).values())
    assert "2026-07-04 03:21" in contoso_page and f"Next update by {promised:%Y-%m-%d %H:%M} UTC" in contoso_page
    fabrikam_page = "".join(customer_pages(client, fabrikam_user).values())
    for needle in ("2026-07-04 03:21", f"{promised:%Y-%m-%d %H:%M}", case.reference):
        assert not shows(fabrikam_page, needle), f"Fabrikam sees {needle}"
