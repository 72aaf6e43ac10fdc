"""Reviewers see what they approve; after a breach the notice is the next step; Markdown previews."""

import pytest
from django.urls import reverse

from cases.models import Case
from cases.services import breach, communications
from cases.services.review import save_review
from tests.factories import AffectedCustomerFactory, case_in_stage

pytestmark = pytest.mark.django_db

UPDATE = {"status": "identified", "public_title": "Unauthorised reads of some buckets",
          "what_happened": "Objects were **read** by another account.", "what_you_should_do": "1. Rotate keys.\n2. Check logs."}


@pytest.fixture
def breach_case(manager, responder, contoso, comms):
    contoso.security_contacts = "soc@contoso.example\nciso@contoso.example"
    contoso.save()
    case = case_in_stage(Case.Status.STABILIZING, manager=manager)
    from cases.services import cases as case_services

    case_services.add_member(case=case, by=manager, user=responder)
    AffectedCustomerFactory(case=case, by=manager, organization=contoso, impact_statement="Three objects read.")
    breach.declare_breach(case=case, by=manager, note="Logs show external reads.", regimes=[])
    case.refresh_from_db()
    return case


def step_of(client, case):
    return client.get(case.get_absolute_url()).context["breach_notice"]


def test_after_declaring_a_breach_drafting_the_notice_is_the_first_next_action(client, manager, breach_case):
    client.force_login(manager)
    response = client.get(breach_case.get_absolute_url())
    html = response.content.decode()
    assert response.context["breach_notice"].kind == "draft"
    assert "Draft the breach notice (first customer update)" in html
    # It comes before every stage action in the "Next actions" panel.
    assert html.index("Draft the breach notice") < html.index("Close case")
    assert "sends it as their breach notice" in html


def test_a_draft_makes_the_next_step_its_approval_and_publishing_ends_it(client, manager, responder, comms, breach_case):
    update = communications.draft_update(case=breach_case, by=responder, **UPDATE)
    client.force_login(comms)
    step = step_of(client, breach_case)
    assert step.kind == "approve" and step.draft == update
    assert reverse("cases:update-review", args=[breach_case.reference, update.pk]) in client.get(breach_case.get_absolute_url()).content.decode()
    communications.approve_update(update=update, by=comms)
    assert step_of(client, breach_case) is None


def test_no_breach_no_notice_step(client, manager):
    case = case_in_stage(Case.Status.DIAGNOSING, manager=manager)
    client.force_login(manager)
    assert step_of(client, case) is None


def test_reviewer_sees_the_rendered_draft_the_changes_and_the_recipients_beside_the_button(client, comms, responder, breach_case):
    first = communications.draft_update(case=breach_case, by=responder, **UPDATE)
    communications.approve_update(update=first, by=comms)
    second = communications.draft_update(case=breach_case, by=responder, **{**UPDATE, "what_happened": "Objects were **read** and listed."})
    client.force_login(comms)
    response = client.get(reverse("cases:update-review", args=[breach_case.reference, second.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<strong>read</strong>" in html, "the Markdown is rendered as customers see it"
    assert "<ol>" in html and "Rotate keys." in html
    assert "<del>by another account.</del><ins>and listed.</ins>" in html
    assert "soc@contoso.example" in html and "ciso@contoso.example" in html and "Contoso" in html
    assert "Three objects read." in html, "the organisation's own impact statement is in the preview"
    assert 'action="' + reverse("cases:update-approve", args=[breach_case.reference, second.pk]) in html


def test_the_author_reads_the_review_page_without_an_approve_button(client, responder, breach_case):
    update = communications.draft_update(case=breach_case, by=responder, **UPDATE)
    client.force_login(responder)
    response = client.get(reverse("cases:update-review", args=[breach_case.reference, update.pk]))
    assert response.status_code == 200
    assert not response.context["can_approve"]
    assert "You wrote this" in response.content.decode()


def test_first_update_is_the_breach_notice_and_everything_is_new(client, comms, responder, breach_case):
    update = communications.draft_update(case=breach_case, by=responder, **UPDATE)
    client.force_login(comms)
    response = client.get(reverse("cases:update-review", args=[breach_case.reference, update.pk]))
    assert response.context["breach_notice"] and response.context["previous"] is None
    assert "Review the breach notice" in response.content.decode()


def test_an_update_of_another_case_is_a_404(client, comms, responder, manager, breach_case):
    other = case_in_stage(Case.Status.DIAGNOSING, manager=manager)
    update = communications.draft_update(case=breach_case, by=responder, **UPDATE)
    client.force_login(comms)
    assert client.get(reverse("cases:update-review", args=[other.reference, update.pk])).status_code == 404


def test_comms_reads_the_internal_review_it_approves(client, comms, responder, manager, breach_case):
    save_review(case=breach_case, by=responder, what_happened="Listing exposed for **3 hours**.", what_went_wrong="Policy inversion.")
    client.force_login(comms)
    response = client.get(reverse("cases:review-read", args=[breach_case.reference]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<strong>3 hours</strong>" in html and "Approve review" in html
    # Editing stays with who works on the case.
    assert client.get(reverse("cases:review", args=[breach_case.reference])).status_code == 403


def test_markdown_preview_renders_and_sanitises(client, responder):
    client.force_login(responder)
    url = reverse("cases:markdown-preview")
    response = client.post(url, {"text": "**bold** <script>alert(1)</script> [x](javascript:alert(1))"})
    html = response.content.decode()
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    assert "<strong>bold</strong>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html and "href=\"javascript" not in html
    assert client.post(url, {"text": "x" * 50_001}).status_code == 400
    assert client.get(url).status_code == 405


def test_every_markdown_field_says_markdown_allowed(client, manager, breach_case):
    client.force_login(manager)
    html = client.get(reverse("cases:update-new", args=[breach_case.reference])).content.decode()
    assert html.count("Markdown allowed") == 4
    assert html.count('data-markdown-preview="id_') == 4
    html = client.get(reverse("cases:public-review", args=[breach_case.reference])).content.decode()
    assert html.count("Markdown allowed") == 5
    page = client.get(breach_case.get_absolute_url()).content.decode()
    assert f'data-markdown-preview="cases-{breach_case.reference.lower()}-customers-impact_statement"' in page
    assert 'data-markdown-preview="impact-' in page


def test_the_case_page_has_no_duplicate_element_ids(client, manager, breach_case):
    """The task and repair forms both have a Title; each clock has its delay form: ids stay unique."""
    from html.parser import HTMLParser

    from cases.services import communications as comms_services

    comms_services.add_repair_item(case=breach_case, by=manager, title="Add a canary")
    assert breach_case.deadlines.count() >= 1

    class Ids(HTMLParser):
        def __init__(self):
            super().__init__()
            self.ids = []

        def handle_starttag(self, tag, attrs):
            self.ids += [value for name, value in attrs if name == "id"]

    client.force_login(manager)
    parser = Ids()
    parser.feed(client.get(breach_case.get_absolute_url()).content.decode())
    duplicates = {i for i in parser.ids if parser.ids.count(i) > 1}
    assert not duplicates
    assert f"cases-{breach_case.reference.lower()}-tasks-title" in parser.ids
    assert f"cases-{breach_case.reference.lower()}-repairs-title" in parser.ids


def test_a_field_sent_back_with_browser_line_endings_is_unchanged(client, comms, responder, breach_case):
    first = communications.draft_update(case=breach_case, by=responder, **UPDATE)
    communications.approve_update(update=first, by=comms)
    second = communications.draft_update(case=breach_case, by=responder, **{
        **UPDATE, "what_you_should_do": UPDATE["what_you_should_do"].replace("\n", "\r\n")})
    client.force_login(comms)
    changes = client.get(reverse("cases:update-review", args=[breach_case.reference, second.pk])).context["changes"]
    assert [change.label for change in changes if change.changed] == []
