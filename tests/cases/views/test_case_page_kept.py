"""The staff case page kept per reader and version (issue 18): never stale, never another reader's.

The page is kept under a key naming the case's row (its version, timeline head and every other
column), the reader and everything their rights come from, the query string and the stamp of the
people, organisations, services and playbooks it names (cases.views.pages.case_detail). Here: every
change a service makes to what the page shows is on the very next GET after the page was kept; what
changes without the case (alerts, deliveries, acknowledgements) and with time alone is current; no
reader ever receives another's page; access is decided on every request; messages and the CSRF token
are never kept.
"""

import re
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace
from typing import Callable

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.middleware.csrf import _unmask_cipher_token
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cases.models import Case, ClockDecision, Deadline
from cases.services import breach, clocks, communications, customer_questions, legal_hold, lifecycle, notices, playbooks, review
from cases.services import cases as case_services
from cases.services import evidence as evidence_services
from cases.services import tasks as task_services
from cases.services.intake import ingest_alert
from cases.services.timeline import add_note
from cases.services.triage import attach_group
from notifications.models import Delivery
from tests.cases.alerts.samples import alert_payload
from tests.cases.services.test_playbooks import make_playbook
from tests.factories import AffectedCustomerFactory, DeadlineFactory, OrganizationFactory, StaffFactory, case_in_stage
from tests.notifications.conftest import publish_update

pytestmark = pytest.mark.django_db


def reader(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def section(page: str, heading_id: str) -> str:
    """Return the panel of the page labelled by ``heading_id`` (``members-h``, ``tasks-h``...)."""
    found = re.search(rf'<section[^>]*aria-labelledby="{heading_id}".*?</section>', page, re.S)
    return found.group(0) if found else ""


def kept_page(client, case) -> str:
    """GET the page twice (rendered and kept, then from the kept copy) and return the second."""
    first = client.get(case.get_absolute_url())
    second = client.get(case.get_absolute_url())
    assert first.status_code == second.status_code == 200
    return second.content.decode()


@pytest.fixture
def world(manager, second_manager, responder, comms, contoso, contoso_user):
    """A stabilizing case owned by a manager with a member responder; a second manager and comms approve."""
    case = case_in_stage(Case.Status.STABILIZING, manager=manager)
    case_services.add_member(case=case, by=manager, user=responder)
    return SimpleNamespace(case=case, manager=manager, second_manager=second_manager, responder=responder, comms=comms,
                           contoso=contoso, contoso_user=contoso_user)


def fresh(w) -> Case:
    return Case.objects.get(pk=w.case.pk)


# -- setups: what a change needs on the case before the page is first kept ---------------------------------------------


def with_customer(w, *, confirm=True):
    w.row = AffectedCustomerFactory(case=w.case, by=w.manager, organization=w.contoso, impact_statement="Buckets read.",
                                    confirm=confirm, confirmed_by=w.comms)


def with_breach(w):
    with_customer(w)
    breach.declare_breach(case=fresh(w), by=w.manager, note="Logs confirm external reads.")


def with_task(w):
    w.task = task_services.add_task(case=w.case, by=w.manager, title="TASK-TO-FINISH")


def with_clock(w):
    clocks.record_decision(case=fresh(w), by=w.manager, kind=ClockDecision.Kind.MATERIAL, note="Material.")
    w.clock = Deadline.objects.filter(case=w.case).order_by("pk").first()


def with_delay(w):
    with_clock(w)
    w.delay = breach.request_deadline_delay(deadline=w.clock, by=w.responder, new_due_at=w.clock.due_at + timedelta(days=1),
                                            reason="Law enforcement hold.")


def with_draft_update(w):
    w.update = communications.draft_update(case=fresh(w), by=w.responder, status="identified", public_title="UPDATE-TITLE",
                                           what_happened="Read access.", what_we_are_doing="Rolled back.",
                                           what_you_should_do="Rotate keys.")


def with_repair(w):
    w.repair = communications.add_repair_item(case=fresh(w), by=w.manager, title="REPAIR-ITEM")


def with_review(w):
    review.save_review(case=fresh(w), by=w.responder, what_happened="Key leaked.", what_went_wrong="Key in a repo.")


def with_playbook(w):
    w.version = make_playbook(w.manager)


def with_applied_playbook(w):
    with_playbook(w)
    lifecycle.resume_diagnosis(case=fresh(w), by=w.manager, note="Back to it.")
    playbooks.apply_playbook(case=fresh(w), version=w.version, by=w.manager)


def with_readable_incident(w):
    """Contoso confirmed and an update published: Contoso reads the incident and may ask."""
    with_customer(w)
    with_draft_update(w)
    communications.approve_update(update=w.update, by=w.comms)


def with_question(w):
    with_readable_incident(w)
    w.question = customer_questions.ask_question(case=fresh(w), by=w.contoso_user, text="QUESTION-ASKED")


def with_breach_question_reply(w):
    with_breach(w)
    with_draft_update(w)
    communications.approve_update(update=w.update, by=w.comms)
    w.question = customer_questions.ask_question(case=fresh(w), by=w.contoso_user, text="QUESTION-ASKED")
    w.reply = customer_questions.reply_to_question(question=w.question, by=w.responder, text="REPLY-WAITING")


def with_oob_notice(w):
    with_breach(w)
    w.notice = notices.record_out_of_band_notice(
        row=w.row, by=w.manager, channel="phone", person_reached="PERSON-REACHED, CISO",
        reached_at=timezone.now(), evidence_reference="call log 42")


def with_alert_group(w):
    w.alert, _ = ingest_alert(payload=alert_payload(title="ALERT-FIRST"), by=w.responder)
    attach_group(group=w.alert.group, case=fresh(w), by=w.responder)


def with_sent_notice(w):
    with_breach(w)
    type(w.contoso).objects.filter(pk=w.contoso.pk).update(security_contacts="soc@contoso.example")
    publish_update(fresh(w), comms=w.comms)


def with_member_candidate(w):
    w.candidate = StaffFactory(first_name="Newly", last_name="Added")


# -- the changes: each through its service; each returns (panel heading id or "" for the page, text now shown) ----------


@dataclass
class Change:
    name: str
    change: Callable
    setup: Callable | None = None
    shown: bool = True  # False: the text must be gone


CHANGES = [
    Change("note", lambda w: (add_note(case=w.case, by=w.responder, text="NOTE-ADDED"), ("timeline-h", "NOTE-ADDED"))[1]),
    Change("details", lambda w: (case_services.update_case_details(case=fresh(w), by=w.manager, changes={"title": "TITLE-CHANGED"}),
                                 ("", "<h1>TITLE-CHANGED</h1>"))[1]),
    Change("transition", lambda w: (lifecycle.resume_diagnosis(case=fresh(w), by=w.manager, note="More to find."),
                                    ("", '<li class="current" aria-current="step">Diagnosing</li>'))[1]),
    Change("owner", lambda w: (case_services.assign_owner(case=fresh(w), by=w.manager, owner=w.responder),
                               ("facts-h", f"<dt>Owner</dt><dd>{w.responder.display_name}</dd>"))[1]),
    Change("member added", lambda w: (case_services.add_member(case=fresh(w), by=w.manager, user=w.candidate),
                                      ("members-h", "<li>Newly Added"))[1], setup=with_member_candidate),
    Change("member removed", lambda w: (case_services.remove_member(case=fresh(w), by=w.manager, user=w.responder),
                                        ("members-h", f"<li>{w.responder.display_name}"))[1], shown=False),
    Change("task added", lambda w: (task_services.add_task(case=fresh(w), by=w.manager, title="TASK-ADDED"),
                                    ("tasks-h", "TASK-ADDED"))[1]),
    Change("task done", lambda w: (task_services.complete_task(task=w.task, by=w.manager), ("tasks-h", "Reopen"))[1],
           setup=with_task),
    Change("evidence", lambda w: (evidence_services.add_evidence(case=fresh(w), by=w.manager, content=ContentFile(b"GET /\n"),
                                                                 original_name="proxy.log"), ("", "Evidence (1)"))[1]),
    Change("customer added", lambda w: (breach.add_affected_customer(case=fresh(w), by=w.manager, organization=w.contoso,
                                                                     data_disclosed=True, impact_statement="IMPACT-ADDED"),
                                        ("customers-h", "IMPACT-ADDED"))[1]),
    Change("customer confirmed", lambda w: (breach.confirm_affected_customer(row=w.row, by=w.comms),
                                            ("customers-h", "Confirmed</span> by"))[1],
           setup=lambda w: with_customer(w, confirm=False)),
    Change("customer edited", lambda w: (breach.edit_affected_customer(row=w.row, by=w.manager, data_lost=False, data_altered=False,
                                                                       data_disclosed=True, impact_statement="IMPACT-EDITED"),
                                         ("customers-h", "IMPACT-EDITED"))[1], setup=with_customer),
    Change("customer withdrawn", lambda w: (breach.withdraw_affected_customer(row=w.row, by=w.manager, reason="WITHDRAWN-WHY"),
                                            ("customers-h", "WITHDRAWN-WHY"))[1], setup=with_customer),
    Change("breach declared", lambda w: (breach.declare_breach(case=fresh(w), by=w.manager, note="Reads confirmed."),
                                         ("", 'class="badge breach">Breach declared'))[1], setup=with_customer),
    Change("out-of-band notice recorded", lambda w: (notices.record_out_of_band_notice(
        row=w.row, by=w.manager, channel="phone", person_reached="PERSON-REACHED, CISO",
        reached_at=timezone.now(), evidence_reference="call log 42"), ("customers-h", "PERSON-REACHED"))[1],
        setup=with_breach),
    Change("out-of-band notice approved", lambda w: (notices.approve_out_of_band_notice(notice=w.notice, by=w.second_manager),
                                                     ("customers-h", f"approved by {w.second_manager.display_name}"))[1],
           setup=with_oob_notice),
    Change("update drafted", lambda w: (with_draft_update(w), ("comms-h", "UPDATE-TITLE"))[1]),
    Change("update approved", lambda w: (communications.approve_update(update=w.update, by=w.comms), ("comms-h", "Published "))[1],
           setup=with_draft_update),
    Change("customer review", lambda w: (communications.save_published_review(
        case=fresh(w), by=w.manager, title="PUBLIC-REVIEW", impact_started_at=timezone.now() - timedelta(hours=2),
        what_happened="Read access.", what_went_wrong="A policy."),
                                         ("comms-h", "PUBLIC-REVIEW"))[1]),
    Change("repair item added", lambda w: (with_repair(w), ("comms-h", "REPAIR-ITEM"))[1]),
    Change("repair item status", lambda w: (communications.set_repair_status(item=w.repair, by=w.manager, status="done"),
                                            ("comms-h", "REPAIR-ITEM — Done"))[1], setup=with_repair),
    Change("review written", lambda w: (with_review(w), ("review-h", "Written by"))[1]),
    Change("review approved", lambda w: (review.approve_review(case=fresh(w), by=w.manager),
                                         ("review-h", "Approved</span> by"))[1], setup=with_review),
    Change("clock started", lambda w: (with_clock(w), ("deadlines-h", 'class="field clock'))[1]),
    Change("delay requested", lambda w: (breach.request_deadline_delay(
        deadline=w.clock, by=w.responder, new_due_at=w.clock.due_at + timedelta(days=1), reason="DELAY-WHY"),
        ("deadlines-h", "DELAY-WHY"))[1], setup=with_clock),
    Change("delay approved", lambda w: (breach.approve_deadline_delay(delay=w.delay, by=w.manager),
                                        ("deadlines-h", "(approved by"))[1], setup=with_delay),
    Change("clock submission", lambda w: (clocks.record_submission(deadline=w.clock, by=w.manager, recipient="SEC-RECIPIENT",
                                                                   content="Form 8-K filed."),
                                          ("deadlines-h", "Submitted to SEC-RECIPIENT"))[1], setup=with_clock),
    Change("clock override", lambda w: (clocks.override_for_close(deadline=w.clock, by=w.manager, reason="OVERRIDE-WHY"),
                                        ("deadlines-h", "OVERRIDE-WHY"))[1], setup=with_clock),
    Change("playbook applied", lambda w: (playbooks.apply_playbook(case=fresh(w), version=w.version, by=w.manager),
                                          ("playbook-h", "Following"))[1], setup=with_playbook),
    Change("playbook step skipped", lambda w: (playbooks.skip_step(
        task=fresh(w).tasks.filter(step__isnull=False, done_at__isnull=True).order_by("pk").first(), by=w.manager,
        reason="SKIP-WHY"), ("playbook-h", "SKIP-WHY"))[1], setup=with_applied_playbook),
    Change("legal hold", lambda w: (legal_hold.set_legal_hold(case=fresh(w), by=w.manager, hold=True, reason="Litigation."),
                                    ("", "Legal hold</span>"))[1]),
    Change("question asked", lambda w: (customer_questions.ask_question(case=fresh(w), by=w.contoso_user, text="QUESTION-ASKED"),
                                        ("questions-h", "QUESTION-ASKED"))[1], setup=with_readable_incident),
    Change("question answered", lambda w: (customer_questions.reply_to_question(question=w.question, by=w.responder, text="REPLY-SENT"),
                                           ("questions-h", "REPLY-SENT"))[1], setup=with_question),
    Change("reply approved", lambda w: (customer_questions.approve_reply(reply=w.reply, by=w.comms),
                                        ("questions-h", 'class="badge note">sent'))[1], setup=with_breach_question_reply),
    Change("alert group attached", lambda w: (with_alert_group(w), ("case-alerts-h", "ALERT-FIRST"))[1]),
    # Nothing on this case changes: another case sees the same observable.
    Change("observable seen in another case", lambda w: (attach_group(
        group=ingest_alert(payload=alert_payload(title="ALERT-ELSEWHERE"), by=w.responder)[0].group,
        case=w.other_case, by=w.manager), ("case-alerts-h", f"seen in <a class=\"mono\" href=\"{w.other_case.get_absolute_url()}\">"))[1],
        setup=lambda w: (with_alert_group(w), setattr(w, "other_case", case_in_stage(Case.Status.DIAGNOSING, manager=w.manager)))),
    Change("customer acknowledges", lambda w: (communications.acknowledge(case=fresh(w), user=w.contoso_user),
                                               ("customers-h", f"Acknowledged</span> by {w.contoso_user.display_name}"))[1],
           setup=with_sent_notice),
    Change("delivery ends dead", lambda w: (Delivery.objects.filter(notification__case=w.case, channel="email").update(status="dead"),
                                            ("customers-h", 'class="badge delivery-dead"'))[1], setup=with_sent_notice),
    Change("breach notices' fan-out moves", lambda w: (
        Delivery.objects.filter(notification__case=w.case, channel="email").update(status="dead"),
        (f"notice-progress-{w.case.pk}", 'data-label="Dead" data-status="dead">0<'))[1], setup=with_sent_notice, shown=False),
    Change("staff member renamed", lambda w: (setattr(w.responder, "first_name", "RENAMED"), w.responder.save(),
                                              ("members-h", "RENAMED"))[2]),
    Change("organisation created", lambda w: (OrganizationFactory(name="ORGANISATION-NEW"), ("customers-h", "ORGANISATION-NEW"))[1]),
    Change("playbook published", lambda w: (make_playbook(w.manager, slug="new-one", name="PLAYBOOK-NEW"),
                                            ("playbook-h", "PLAYBOOK-NEW"))[1]),
]


@pytest.mark.parametrize("item", CHANGES, ids=[item.name for item in CHANGES])
def test_every_change_through_its_service_is_on_the_next_request(world, item):
    if item.setup:
        item.setup(world)
    client = reader(world.manager)
    before = kept_page(client, world.case)
    heading, text = item.change(world)
    page = client.get(world.case.get_absolute_url()).content.decode()
    part, part_before = (section(page, heading), section(before, heading)) if heading else (page, before)
    assert_change_shown(item, text, part_before, part)


def assert_change_shown(item: Change, text: str, kept: str, now: str) -> None:
    """The change's text is new on the next request (``item.shown``) or gone from it; the kept copy had it the other way."""
    if item.shown:
        assert text not in kept, "the change must be new to the kept page"
        assert text in now
    else:
        assert text in kept
        assert text not in now


def test_an_overdue_task_and_a_clock_s_time_left_follow_the_clock(world):
    """Minutes later, well within the time a page is kept, nothing on the case changed but the task is overdue."""
    now = timezone.now()
    task_services.add_task(case=world.case, by=world.manager, title="DUE-SOON", due_at=now + timedelta(minutes=3))
    DeadlineFactory(case=world.case, due_at=now + timedelta(minutes=30, seconds=30))
    client = reader(world.manager)
    page = kept_page(client, world.case)
    row = re.search(r'<tr data-testid="task-row">\s*<td>DUE-SOON.*?</tr>', page, re.S).group(0)
    assert 'class="overdue"' not in row
    assert "30 min left" in section(page, "deadlines-h")
    with time_machine.travel(now + timedelta(minutes=4)):
        page = client.get(world.case.get_absolute_url()).content.decode()
    row = re.search(r'<tr data-testid="task-row">\s*<td>DUE-SOON.*?</tr>', page, re.S).group(0)
    assert 'class="overdue"' in row
    assert "26 min left" in section(page, "deadlines-h")


# -- readers ---------------------------------------------------------------------------------------------------------------


NOTE_FORM = 'action="{}"'.format  # the member-only note form on the timeline


def test_another_reader_never_receives_the_first_one_s_kept_page(world, other_responder, comms):
    """The manager works on and manages the case, the member responder works on it, comms reads it; an outsider may not know it."""
    note_form = NOTE_FORM(reverse("cases:note-add", args=[world.case.reference]))
    decision_form = NOTE_FORM(reverse("clocks:decision", args=[world.case.reference]))
    manager_page = kept_page(reader(world.manager), world.case)
    assert note_form in manager_page and decision_form in manager_page
    member_page = kept_page(reader(world.responder), world.case)
    assert note_form in member_page and decision_form not in member_page, "a member works on it but does not manage it"
    assert reader(other_responder).get(world.case.get_absolute_url()).status_code == 404
    comms_page = kept_page(reader(comms), world.case)
    assert note_form not in comms_page and decision_form not in comms_page, "comms reads it and approves its texts only"
    for page, user in ((manager_page, world.manager), (member_page, world.responder), (comms_page, comms)):
        assert f'<span>{user.get_full_name() or user.username} <span class="role">' in page


def test_a_revoked_membership_takes_effect_on_the_next_request(world):
    note_form = NOTE_FORM(reverse("cases:note-add", args=[world.case.reference]))
    client = reader(world.responder)
    assert note_form in kept_page(client, world.case)
    case_services.remove_member(case=fresh(world), by=world.manager, user=world.responder)
    assert note_form not in client.get(world.case.get_absolute_url()).content.decode()


def test_a_revoked_role_takes_effect_on_the_next_request(world):
    decision_form = NOTE_FORM(reverse("clocks:decision", args=[world.case.reference]))
    client = reader(world.second_manager)
    assert decision_form in kept_page(client, world.case)
    world.second_manager.groups.set([Group.objects.get(name="Communications")])
    page = client.get(world.case.get_absolute_url())
    assert page.status_code == 200 and decision_form.encode() not in page.content
    world.second_manager.groups.clear()
    assert client.get(world.case.get_absolute_url()).status_code == 403


def test_a_restricted_case_stays_404_for_a_non_member(manager, responder, other_responder):
    case = case_in_stage(Case.Status.DIAGNOSING, manager=manager, restricted=True)
    case_services.add_member(case=case, by=manager, user=responder)
    kept_page(reader(manager), case)
    member = reader(responder)
    kept_page(member, case)
    assert reader(other_responder).get(case.get_absolute_url()).status_code == 404
    case_services.remove_member(case=Case.objects.get(pk=case.pk), by=manager, user=responder)
    assert member.get(case.get_absolute_url()).status_code == 404


def test_flash_messages_are_never_kept(world):
    client = reader(world.manager)
    kept_page(client, world.case)
    response = client.post(reverse("cases:note-add", args=[world.case.reference]), {"text": "MESSAGE-NOTE"}, follow=True)
    assert response.status_code == 200
    shown = response.content.decode()
    assert 'class="messages"' in shown and "MESSAGE-NOTE" in shown
    after = client.get(world.case.get_absolute_url()).content.decode()
    assert 'class="messages"' not in after and "MESSAGE-NOTE" in after


def test_the_csrf_token_is_the_requester_s_own(world, second_manager):
    def token(client, page: str) -> str:
        value = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        assert _unmask_cipher_token(value) == _unmask_cipher_token(client.cookies["csrftoken"].value) or \
            _unmask_cipher_token(value) == client.cookies["csrftoken"].value
        return value

    first, second = reader(world.manager, enforce_csrf_checks=True), reader(second_manager, enforce_csrf_checks=True)
    for client in (first, second):
        page = kept_page(client, world.case)
        assert "irt-kept-" not in page
        response = client.post(reverse("cases:note-add", args=[world.case.reference]),
                               {"text": "With my own token.", "csrfmiddlewaretoken": token(client, page)})
        assert response.status_code == 302, "the kept page's token is accepted from its own requester"
    assert first.cookies["csrftoken"].value != second.cookies["csrftoken"].value


def test_a_refused_query_string_is_rendered_whole_and_never_kept(world):
    client = reader(world.manager)
    kept_page(client, world.case)
    response = client.get(world.case.get_absolute_url(), {"before": "not-a-number"})
    assert response.status_code == 400
    assert "That window of the case no longer exists" in response.content.decode()
    assert client.get(world.case.get_absolute_url()).status_code == 200


# The kept page's own reads, as tests/cases/views/test_query_counts.py pins for the owner: the session joined with the user,
# their second factor and permissions (one query); the case with its members' ids, which decide the reader's rights (one
# query: cases.access.lookups); the affected rows, their receipts and acknowledgements; the alert groups and observables
# (no breach declared: no notices' fan-out).
KEPT_QUERIES_MEMBER = 7


def test_the_kept_page_reads_what_it_fills_in_and_what_decides_access(world, django_assert_num_queries):
    with_customer(world)
    client = reader(world.responder)
    with time_machine.travel(timezone.now(), tick=False):  # the stamp, kept 2 s in a process-local cache, stays kept
        kept_page(client, world.case)
        with django_assert_num_queries(KEPT_QUERIES_MEMBER):
            assert client.get(world.case.get_absolute_url()).status_code == 200


def test_a_copy_kept_by_the_code_before_a_deploy_is_never_served_after_it(world, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from cases.views import kept_pages

    client = reader(world.responder)
    kept_page(client, world.case)
    monkeypatch.setattr(kept_pages, "deployed_code", lambda: "the next deploy")
    with CaptureQueriesContext(connection) as rendered:
        assert client.get(world.case.get_absolute_url()).status_code == 200
    assert len(rendered.captured_queries) > KEPT_QUERIES_MEMBER  # rendered again, not read from the old copy
    with CaptureQueriesContext(connection) as kept:
        assert client.get(world.case.get_absolute_url()).status_code == 200
    assert len(kept.captured_queries) < len(rendered.captured_queries)  # and kept anew under the new code


def test_the_code_digest_follows_every_template_and_module(settings, tmp_path):
    from cases.views import kept_pages

    settings.BASE_DIR = tmp_path
    (tmp_path / "templates").mkdir()
    page = tmp_path / "templates" / "page.html"
    page.write_text("<p>{{ case }}</p>")
    kept_pages.deployed_code.cache_clear()
    try:
        before = kept_pages.deployed_code()
        page.write_text("<p>{{ case.reference }}</p>")
        kept_pages.deployed_code.cache_clear()
        assert kept_pages.deployed_code() != before
    finally:
        kept_pages.deployed_code.cache_clear()
