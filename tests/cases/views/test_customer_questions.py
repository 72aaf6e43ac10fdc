"""Questions and files from a customer's incident page (issue 16, item 6): the portal and staff pages.

Authorization of every URL is in test_authorization.py; the rules themselves in
tests/cases/services/test_customer_questions.py. Here: what each side reads, that files are never
rendered inline, bad input answered with a message, and query counts that do not grow.
"""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from cases.models import Case, Evidence
from cases.models.questions import QuestionReply
from cases.services import breach, communications, customer_questions
from cases.services import evidence as evidence_services
from tests.factories import AffectedCustomerFactory, CustomerUserFactory, case_in_stage
from tests.cases.services.test_customer_questions import incident, log_file  # noqa: F401 - fixture

LOG = b"2026-12-01T10:00:00Z GET /exports 200\n"


def incident_url(case) -> str:
    return reverse("portal:incident", args=[case.reference])


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]] if response.context else []


def test_customer_asks_from_the_incident_page_and_reads_the_answer(client, incident, contoso_user, responder):
    client.force_login(contoso_user)
    page = client.get(incident_url(incident)).content.decode()
    assert 'aria-labelledby="questions-h"' in page and reverse("portal:question-ask", args=[incident.reference]) in page
    response = client.post(reverse("portal:question-ask", args=[incident.reference]), {"text": "Which buckets?"}, follow=True)
    assert "Your question is with the response team" in " ".join(messages_of(response))
    assert "Which buckets?" in response.content.decode() and "Not answered yet." in response.content.decode()
    question = incident.customer_questions.get()
    customer_questions.reply_to_question(question=question, by=responder, text="Only contoso-exports.")
    assert "Only contoso-exports." in client.get(incident_url(incident)).content.decode()


def test_a_too_long_question_is_a_message_not_an_error(client, incident, contoso_user):
    client.force_login(contoso_user)
    response = client.post(reverse("portal:question-ask", args=[incident.reference]),
                           {"text": "x" * (customer_questions.MAX_QUESTION_CHARS + 1)}, follow=True)
    assert response.status_code == 200
    assert any(message.startswith("Your question: ") for message in messages_of(response))
    assert not incident.customer_questions.exists()


def test_customer_does_not_read_a_reply_before_its_approval(client, incident, contoso_user, manager, comms):
    breach.declare_breach(case=incident, by=manager, note="Reads.")
    question = customer_questions.ask_question(case=incident, by=contoso_user, text="Were emails read?")
    reply = customer_questions.reply_to_question(question=question, by=manager, text="UNAPPROVED-ANSWER")
    client.force_login(contoso_user)
    assert "UNAPPROVED-ANSWER" not in client.get(incident_url(incident)).content.decode()
    customer_questions.approve_reply(reply=reply, by=comms)
    assert "UNAPPROVED-ANSWER" in client.get(incident_url(incident)).content.decode()


def test_another_organisation_never_sees_the_questions_or_files(client, incident, contoso_user, fabrikam, manager, comms):
    """Fabrikam, affected too, reads the same incident but none of Contoso's questions, answers or files."""
    AffectedCustomerFactory(case=incident, by=manager, organization=fabrikam)
    question = customer_questions.ask_question(case=incident, by=contoso_user, text="CONTOSO-QUESTION")
    customer_questions.reply_to_question(question=question, by=manager, text="CONTOSO-ANSWER")
    customer_questions.upload_file(case=incident, by=contoso_user, content=log_file(), original_name="contoso-proxy.log")
    client.force_login(CustomerUserFactory(organization=fabrikam))
    page = client.get(incident_url(incident)).content.decode()
    for secret in ("CONTOSO-QUESTION", "CONTOSO-ANSWER", "contoso-proxy.log"):
        assert secret not in page
    assert "Fabrikam has sent no file on this incident." in page


def test_customer_sends_a_log_that_becomes_evidence_and_lists_only_their_own_uploads(client, incident, contoso_user, manager):
    evidence_services.add_evidence(case=incident, by=manager, content=log_file(b"internal"), original_name="INTERNAL-memory.lime")
    client.force_login(contoso_user)
    upload = SimpleUploadedFile("proxy.log", LOG, "text/plain")
    response = client.post(reverse("portal:file-upload", args=[incident.reference]), {"file": upload}, follow=True)
    [item] = Evidence.objects.filter(customer_upload__isnull=False)
    assert item.original_name == "proxy.log" and item.uploaded_by == contoso_user and item.size == len(LOG)
    page = response.content.decode()
    assert item.sha256 in page and "proxy.log" in page and f"SHA-256 {item.sha256}" in " ".join(messages_of(response))
    assert "INTERNAL-memory.lime" not in page


def test_a_refused_file_is_a_message_and_nothing_is_stored(client, incident, contoso_user):
    client.force_login(contoso_user)
    upload = SimpleUploadedFile("invoice.html", b"<html><script>steal()</script></html>", "text/html")
    response = client.post(reverse("portal:file-upload", args=[incident.reference]), {"file": upload}, follow=True)
    assert response.status_code == 200 and any("Send logs" in message for message in messages_of(response))
    assert not Evidence.objects.exists()


def test_a_file_over_the_customer_limit_is_refused_while_it_streams(client, incident, contoso_user, monkeypatch):
    monkeypatch.setattr(customer_questions, "MAX_UPLOAD_BYTES", 16)
    client.force_login(contoso_user)
    upload = SimpleUploadedFile("proxy.log", LOG, "text/plain")
    response = client.post(reverse("portal:file-upload", args=[incident.reference]), {"file": upload}, follow=True)
    assert any("larger than the limit of 16" in message for message in messages_of(response))
    assert not Evidence.objects.exists()


def test_a_file_without_a_csrf_token_is_refused(incident, contoso_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(contoso_user)
    response = client.post(reverse("portal:file-upload", args=[incident.reference]), {"file": SimpleUploadedFile("a.log", LOG)})
    assert response.status_code == 403
    assert not Evidence.objects.exists()


def test_a_customer_file_is_only_ever_downloaded_by_staff_as_an_attachment(client, incident, contoso_user, manager):
    item = customer_questions.upload_file(case=incident, by=contoso_user, content=log_file(b"GET /?q=<script>alert(1)</script> 404\n"),
                                          original_name="weird.log")
    client.force_login(manager)
    response = client.post(reverse("evidence:download", args=[incident.reference, item.pk]))
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff" and response["Content-Type"] == "application/octet-stream"
    client.force_login(contoso_user)
    assert client.post(reverse("evidence:download", args=[incident.reference, item.pk])).status_code == 404


def test_the_case_page_shows_questions_and_files_and_the_team_answers(client, incident, contoso_user, responder, manager, comms):
    breach.declare_breach(case=incident, by=manager, note="Reads.")
    question = customer_questions.ask_question(case=incident, by=contoso_user, text="Were emails read?")
    customer_questions.upload_file(case=incident, by=contoso_user, content=log_file(), original_name="proxy.log")
    client.force_login(responder)
    page = client.get(incident.get_absolute_url()).content.decode()
    assert "Were emails read?" in page and 'data-testid="staff-upload"' in page and "proxy.log" in page
    response = client.post(reverse("cases:question-reply", args=[incident.reference, question.pk]), {"text": "Yes, 1,200."}, follow=True)
    assert "a second person approves it" in " ".join(messages_of(response))
    reply = QuestionReply.objects.get()
    assert reply.awaits_approval and reverse("cases:question-reply-approve", args=[incident.reference, reply.pk]) not in response.content.decode()
    client.force_login(comms)
    page = client.get(incident.get_absolute_url()).content.decode()
    approve = reverse("cases:question-reply-approve", args=[incident.reference, reply.pk])
    assert approve in page
    client.post(approve)
    reply.refresh_from_db()
    assert reply.is_published and reply.approved_by == comms


def test_an_empty_reply_is_a_message(client, incident, contoso_user, responder):
    question = customer_questions.ask_question(case=incident, by=contoso_user, text="Hello?")
    client.force_login(responder)
    response = client.post(reverse("cases:question-reply", args=[incident.reference, question.pk]), {"text": " ", "update": "999999"},
                           follow=True)
    assert response.status_code == 200 and messages_of(response)
    assert not QuestionReply.objects.exists()


def test_a_reply_can_point_at_an_approved_update(client, incident, contoso_user, responder):
    question = customer_questions.ask_question(case=incident, by=contoso_user, text="What should we do?")
    update = incident.updates.published().get()
    client.force_login(responder)
    client.post(reverse("cases:question-reply", args=[incident.reference, question.pk]), {"update": update.pk})
    assert QuestionReply.objects.get().update == update
    client.force_login(contoso_user)
    assert "See the update of" in client.get(incident_url(incident)).content.decode()


# Session, user, the incident with the reader's acknowledgement (one prepared query: cases.access.lookups), and the
# first-view check (the case and whether the view is recorded: the cache remembers it only once a transaction commits,
# which a test's never does). Kept in the cache (issue 18): the organisation's name, the body, questions and files (per
# organisation and timeline head), the whole page per reader (cases.views.kept_pages), the follow-up email choice (issue 16
# item 2) and the inbox badge's count. 6 before issue 18's second portal step.
PORTAL_INCIDENT_QUERIES = 4  # 5 before the session and the user were one query


def add_questions_and_files(case, *, asker, answerer, count, start=0):
    for i in range(start, start + count):
        question = customer_questions.ask_question(case=case, by=asker, text=f"Question {i}")
        customer_questions.reply_to_question(question=question, by=answerer, text=f"Answer {i}")
        customer_questions.upload_file(case=case, by=asker, content=log_file(f"line {i}\n".encode()), original_name=f"{i}.log")


def count_queries(client, url) -> tuple[int, str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # the body cache and the first page view
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    return len(captured), response.content.decode()


def test_incident_page_query_count_does_not_grow_with_questions_and_files(client, incident, contoso_user, responder, monkeypatch):
    monkeypatch.setattr(customer_questions, "UPLOADS_PER_DAY", 50)
    client.force_login(contoso_user)
    add_questions_and_files(incident, asker=contoso_user, answerer=responder, count=1)
    few, _ = count_queries(client, incident_url(incident))
    add_questions_and_files(incident, asker=contoso_user, answerer=responder, count=15, start=1)
    many, page = count_queries(client, incident_url(incident))
    assert few == many == PORTAL_INCIDENT_QUERIES
    assert page.count('data-testid="question"') == 16 and page.count('data-testid="upload"') == 16


def test_case_page_query_count_does_not_grow_with_questions_and_files(client, incident, contoso_user, responder, manager, monkeypatch):
    monkeypatch.setattr(customer_questions, "UPLOADS_PER_DAY", 50)
    client.force_login(manager)
    add_questions_and_files(incident, asker=contoso_user, answerer=responder, count=1)
    few, _ = count_queries(client, incident.get_absolute_url())
    add_questions_and_files(incident, asker=contoso_user, answerer=responder, count=15, start=1)
    many, page = count_queries(client, incident.get_absolute_url())
    assert few == many
    assert page.count('data-testid="staff-question"') == 16 and page.count('data-testid="staff-upload"') == 16


def test_case_in_stage_without_questions_shows_no_panel(client, manager):
    case = case_in_stage(Case.Status.DIAGNOSING, manager=manager)
    client.force_login(manager)
    assert 'id="questions-h"' not in client.get(case.get_absolute_url()).content.decode()


def test_pointing_at_an_update_of_another_case_is_refused_by_the_form(client, incident, contoso_user, responder, manager, comms):
    other = case_in_stage(Case.Status.STABILIZING, manager=manager)
    AffectedCustomerFactory(case=other, by=manager, organization=contoso_user.organization)
    foreign = communications.draft_update(case=other, by=manager, public_title="Other", what_happened="Other.")
    communications.approve_update(update=foreign, by=comms)
    question = customer_questions.ask_question(case=incident, by=contoso_user, text="What should we do?")
    client.force_login(responder)
    client.post(reverse("cases:question-reply", args=[incident.reference, question.pk]), {"update": foreign.pk})
    assert not QuestionReply.objects.exists()


def reads_questions(client, url) -> bool:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    return any("cases_customerquestion" in query["sql"] for query in captured.captured_queries)


def test_the_kept_panel_shows_each_question_reply_file_and_update_on_the_next_request(client, incident, contoso_user, responder, manager, comms):
    """The body and questions panel are kept per organisation and timeline head (issue 18); every change moves the head."""
    url = incident_url(incident)
    client.force_login(contoso_user)
    client.get(url)
    assert not reads_questions(client, url), "a second view is served from the cache"
    question = customer_questions.ask_question(case=incident, by=contoso_user, text="ASKED-SINCE")
    assert "ASKED-SINCE" in client.get(url).content.decode()
    customer_questions.reply_to_question(question=question, by=responder, text="ANSWERED-SINCE")
    assert "ANSWERED-SINCE" in client.get(url).content.decode()
    customer_questions.upload_file(case=incident, by=contoso_user, content=log_file(), original_name="sent-since.log")
    assert "sent-since.log" in client.get(url).content.decode()
    update = communications.draft_update(case=incident, by=manager, public_title="PUBLISHED-SINCE", what_happened="More reads.")
    assert "PUBLISHED-SINCE" not in client.get(url).content.decode(), "a draft is not on the page"
    communications.approve_update(update=update, by=comms)
    assert "PUBLISHED-SINCE" in client.get(url).content.decode()
    assert not reads_questions(client, url)


def test_a_kept_page_is_never_shown_to_another_organisation(incident, contoso_user, fabrikam, manager):
    """Both organisations read the incident at the same timeline head; each gets its own kept body and panel."""
    AffectedCustomerFactory(case=incident, by=manager, organization=fabrikam, impact_statement="FABRIKAM-IMPACT")
    incident.affected_customers.filter(organization=contoso_user.organization).update(impact_statement="CONTOSO-IMPACT")
    fabrikam_user = CustomerUserFactory(organization=fabrikam)
    customer_questions.ask_question(case=incident, by=contoso_user, text="CONTOSO-QUESTION")
    customer_questions.upload_file(case=incident, by=contoso_user, content=log_file(), original_name="contoso-proxy.log")
    customer_questions.ask_question(case=incident, by=fabrikam_user, text="FABRIKAM-QUESTION")
    readers = {}
    for user in (contoso_user, fabrikam_user):
        readers[user] = Client()
        readers[user].force_login(user)
    own = {contoso_user: ("CONTOSO-QUESTION", "contoso-proxy.log", "CONTOSO-IMPACT"),
           fabrikam_user: ("FABRIKAM-QUESTION", "Fabrikam has sent no file", "FABRIKAM-IMPACT")}
    for _ in range(2):  # first rendered, then kept
        for user, reader in readers.items():
            page = reader.get(incident_url(incident)).content.decode()
            other = fabrikam_user if user == contoso_user else contoso_user
            assert all(text in page for text in own[user])
            assert not any(text in page for text in own[other])
