"""Questions and files from a customer's incident page (issue 16, item 6): the services."""

import pytest
from django.core.files.base import ContentFile

from cases.models import Case, Evidence, EvidenceAccess, TimelineEvent
from cases.models.exceptions import ActionRefused, NotAllowed
from cases.models.questions import CustomerQuestion, CustomerUpload, QuestionReply
from cases.services import breach, communications
from cases.services import customer_questions as service
from notifications.models import Delivery, Notification
from tests.factories import AffectedCustomerFactory, CustomerUserFactory, case_in_stage

Kind = TimelineEvent.Kind


@pytest.fixture
def incident(manager, responder, comms, contoso):
    """A stabilizing case owned by the manager, the responder a member, Contoso confirmed and an update published."""
    from cases.services import cases as case_services

    case = case_in_stage(Case.Status.STABILIZING, manager=manager)
    case_services.add_member(case=case, by=manager, user=responder)
    AffectedCustomerFactory(case=case, by=manager, organization=contoso)
    update = communications.draft_update(case=case, by=manager, public_title="Listing exposure", what_happened="Listings were readable.")
    communications.approve_update(update=update, by=comms)
    case.refresh_from_db()
    return case


def log_file(content=b"2026-12-01T10:00:00Z GET /bucket 200\n", name="access.log"):
    return ContentFile(content, name=name)


def test_customer_asks_a_question_on_the_timeline_and_the_team_is_told(incident, contoso_user, manager, responder):
    question = service.ask_question(case=incident, by=contoso_user, text="  Which of our buckets were listed?  ")
    assert question.text == "Which of our buckets were listed?" and question.organization == contoso_user.organization
    event = incident.timeline.order_by("-sequence").first()
    assert event.kind == Kind.QUESTION_ASKED and event.actor == contoso_user and "Which of our buckets" in event.text
    notification = Notification.objects.get(kind=Notification.Kind.CUSTOMER_QUESTION)
    told = set(notification.deliveries.filter(channel=Delivery.Channel.INBOX).values_list("user__username", flat=True))
    assert told == {manager.username, responder.username}
    assert "Contoso" in notification.title and incident.reference in notification.title


def test_a_customer_of_another_organisation_cannot_ask(incident, fabrikam_user):
    with pytest.raises(NotAllowed):
        service.ask_question(case=incident, by=fabrikam_user, text="Anything about us?")
    assert not CustomerQuestion.objects.exists()


def test_staff_cannot_ask_through_the_customer_service(incident, manager):
    with pytest.raises(NotAllowed):
        service.ask_question(case=incident, by=manager, text="Testing")


@pytest.mark.parametrize("text, reason", [("   ", "Write your question"), ("x" * (service.MAX_QUESTION_CHARS + 1), "under 4,000")])
def test_an_empty_or_too_long_question_is_refused(incident, contoso_user, text, reason):
    with pytest.raises(ActionRefused, match=reason):
        service.ask_question(case=incident, by=contoso_user, text=text)


def test_an_organisation_asks_at_most_its_daily_share(incident, contoso, contoso_user, monkeypatch):
    monkeypatch.setattr(service, "QUESTIONS_PER_DAY", 2)
    colleague = CustomerUserFactory(organization=contoso)
    service.ask_question(case=incident, by=contoso_user, text="One")
    service.ask_question(case=incident, by=colleague, text="Two")
    with pytest.raises(ActionRefused, match="2 questions in the last 24 hours"):
        service.ask_question(case=incident, by=contoso_user, text="Three")


def test_a_file_becomes_evidence_with_custody_naming_the_customer(incident, contoso_user, manager, responder):
    item = service.upload_file(case=incident, by=contoso_user, content=log_file(), original_name="access.log")
    assert isinstance(item, Evidence) and item.case == incident and item.uploaded_by == contoso_user
    assert len(item.sha256) == 64 and item.size == 37
    [custody] = EvidenceAccess.objects.filter(evidence=item)
    assert custody.action == EvidenceAccess.Action.ADDED and custody.actor == contoso_user and custody.actor_name == contoso_user.username
    upload = CustomerUpload.objects.get(evidence=item)
    assert upload.organization == contoso_user.organization and upload.uploaded_by == contoso_user
    assert incident.timeline.filter(kind=Kind.EVIDENCE_ADDED, actor=contoso_user).exists()
    notification = Notification.objects.get(kind=Notification.Kind.CUSTOMER_QUESTION)
    assert set(notification.deliveries.filter(channel="inbox").values_list("user__username", flat=True)) == {manager.username, responder.username}


@pytest.mark.django_db(transaction=True)
def test_a_file_is_accepted_outside_a_request_transaction(incident, contoso_user):
    """The upload view runs outside a transaction: the daily-share pre-check must take its own (PostgreSQL refuses a
    row lock without one; SQLite, which ignores row locks, never showed it)."""
    item = service.upload_file(case=incident, by=contoso_user, content=log_file(), original_name="access.log")
    assert CustomerUpload.objects.filter(evidence=item).exists()


@pytest.mark.parametrize("name, content, reason", [
    ("tool.exe", b"MZ\x90\x00", "Send logs"),
    ("page.html", b"<html><script>alert(1)</script>", "Send logs"),
    ("notes.txt", b"MZ\x90\x00 renamed program", "looks like a program"),
    ("notes.log", b"  <!DOCTYPE html><html>", "Web pages"),
    ("script.log", b"#!/bin/sh\nrm -rf /\n", "looks like a program"),
    ("data.json", b"{\"a\": \x00}", "must be text"),
    ("capture.pcap", b"not a capture", "named .pcap but its content is not"),
    ("logs.zip", b"\x7fELF\x02\x01", "looks like a program"),
])
def test_programs_markup_and_mislabelled_files_are_refused_before_anything_is_stored(incident, contoso_user, name, content, reason):
    with pytest.raises(ActionRefused, match=reason):
        service.upload_file(case=incident, by=contoso_user, content=ContentFile(content, name=name), original_name=name)
    assert not Evidence.objects.exists()


@pytest.mark.parametrize("name, content", [
    ("events.jsonl", b'{"event": "login"}\n'), ("export.csv", b"a,b\n1,2\n"), ("logs.zip", b"PK\x03\x04rest"),
    ("capture.pcapng", b"\x0a\x0d\x0d\x0arest"), ("logs.tar.gz", b"\x1f\x8brest"), ("Trace.LOG", b"line\n"),
])
def test_logs_exports_captures_and_archives_are_accepted(incident, contoso_user, name, content):
    item = service.upload_file(case=incident, by=contoso_user, content=ContentFile(content, name=name), original_name=name)
    assert item.original_name == name


def test_an_oversized_file_is_refused(incident, contoso_user, monkeypatch):
    monkeypatch.setattr(service, "MAX_UPLOAD_BYTES", 10)
    with pytest.raises(ActionRefused, match="larger than the limit"):
        service.upload_file(case=incident, by=contoso_user, content=log_file(), original_name="access.log")
    assert not Evidence.objects.exists()


def test_an_organisation_sends_at_most_its_daily_share_of_files(incident, contoso_user, monkeypatch):
    monkeypatch.setattr(service, "UPLOADS_PER_DAY", 1)
    service.upload_file(case=incident, by=contoso_user, content=log_file(), original_name="one.log")
    with pytest.raises(ActionRefused, match="1 files in the last 24 hours"):
        service.upload_file(case=incident, by=contoso_user, content=log_file(b"two\n"), original_name="two.log")
    assert Evidence.objects.count() == 1


def test_another_organisation_cannot_send_a_file(incident, fabrikam_user):
    with pytest.raises(NotAllowed):
        service.upload_file(case=incident, by=fabrikam_user, content=log_file(), original_name="access.log")
    assert not Evidence.objects.exists()


def test_a_reply_on_a_case_without_a_breach_reaches_the_asker_at_once(incident, contoso_user, responder):
    question = service.ask_question(case=incident, by=contoso_user, text="Which buckets?")
    reply = service.reply_to_question(question=question, by=responder, text="Only contoso-exports.")
    assert reply.is_published and not reply.needs_approval
    assert incident.timeline.order_by("-sequence").first().kind == Kind.QUESTION_ANSWERED
    answered = Notification.objects.get(kind=Notification.Kind.QUESTION_ANSWERED)
    assert {(d.channel, d.user_id) for d in answered.deliveries.all()} == {("inbox", contoso_user.pk), ("email", contoso_user.pk)}
    assert answered.link == f"/portal/incidents/{incident.reference}/"


def test_the_first_written_reply_on_a_breach_waits_for_a_second_person(incident, contoso_user, responder, manager, comms):
    breach.declare_breach(case=incident, by=manager, note="Reads from a foreign account.")
    question = service.ask_question(case=incident, by=contoso_user, text="Were our customers' emails read?")
    first = service.reply_to_question(question=question, by=manager, text="Yes, 1,200 of them.")
    assert first.awaits_approval and not first.is_published
    assert incident.timeline.order_by("-sequence").first().kind == Kind.QUESTION_REPLY_DRAFTED
    asked = Notification.objects.filter(kind=Notification.Kind.CUSTOMER_QUESTION, title__contains="awaiting your approval").get()
    assert manager.pk not in set(asked.deliveries.values_list("user_id", flat=True))
    assert not Notification.objects.filter(kind=Notification.Kind.QUESTION_ANSWERED).exists()
    with pytest.raises(ActionRefused, match="author of a reply cannot approve"):
        service.approve_reply(reply=first, by=manager)
    service.approve_reply(reply=first, by=comms)
    first.refresh_from_db()
    assert first.is_published and first.approved_by == comms
    assert incident.timeline.order_by("-sequence").first().kind == Kind.QUESTION_ANSWERED
    assert Notification.objects.filter(kind=Notification.Kind.QUESTION_ANSWERED).count() == 1
    with pytest.raises(ActionRefused, match="already approved"):
        service.approve_reply(reply=first, by=comms)
    # Once the organisation has one approved written reply, later replies go out at once.
    second = service.reply_to_question(question=question, by=responder, text="The list is attached to the update.")
    assert second.is_published and not second.needs_approval


def test_a_member_responder_cannot_approve_a_reply(incident, contoso_user, responder, manager):
    breach.declare_breach(case=incident, by=manager, note="Reads from a foreign account.")
    question = service.ask_question(case=incident, by=contoso_user, text="Were we affected?")
    reply = service.reply_to_question(question=question, by=manager, text="Yes.")
    with pytest.raises(NotAllowed):
        service.approve_reply(reply=reply, by=responder)


def test_pointing_at_an_approved_update_needs_no_second_person_even_on_a_breach(incident, contoso_user, responder, manager):
    breach.declare_breach(case=incident, by=manager, note="Reads.")
    question = service.ask_question(case=incident, by=contoso_user, text="What should we do?")
    update = incident.updates.published().get()
    reply = service.reply_to_question(question=question, by=responder, update=update)
    assert reply.is_published and reply.update == update and not reply.needs_approval


def test_a_draft_or_another_case_update_cannot_be_pointed_at(incident, contoso_user, responder, manager):
    question = service.ask_question(case=incident, by=contoso_user, text="What should we do?")
    draft = communications.draft_update(case=incident, by=manager, public_title="Draft", what_happened="Not approved.")
    with pytest.raises(ActionRefused, match="approved update of this incident"):
        service.reply_to_question(question=question, by=responder, update=draft)
    with pytest.raises(ActionRefused, match="Write a reply"):
        service.reply_to_question(question=question, by=responder, text="  ")


def test_a_non_member_responder_cannot_reply(incident, contoso_user, other_responder):
    question = service.ask_question(case=incident, by=contoso_user, text="Hello?")
    with pytest.raises(NotAllowed):
        service.reply_to_question(question=question, by=other_responder, text="Hi")
    assert not QuestionReply.objects.exists()


def test_a_withdrawn_organisation_gets_no_reply(incident, contoso_user, responder, manager):
    question = service.ask_question(case=incident, by=contoso_user, text="Hello?")
    row = incident.affected_customers.get()
    breach.withdraw_affected_customer(row=row, by=manager, reason="Not in the affected region after all.")
    with pytest.raises(ActionRefused, match="no longer reads this incident"):
        service.reply_to_question(question=question, by=responder, text="Hi")
    with pytest.raises(NotAllowed):
        service.ask_question(case=incident, by=contoso_user, text="Still there?")
