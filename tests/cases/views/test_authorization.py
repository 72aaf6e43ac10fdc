"""Every URL × role: who gets the page, who is turned away, and how.

The matrix is data. ``test_every_url_is_in_the_matrix`` walks Django's URL resolver and fails
when a URL exists that the matrix does not cover, so a new view cannot ship untested.
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from cases.models import Case, OutOfBandNotice, TimelineEvent
from cases.services import cases as case_services
from cases.services import communications
from tests.factories import AffectedCustomerFactory, CommsFactory, OrganizationFactory, TaskFactory, case_in_stage

ROLES = [
    "anonymous",
    "customer_other",
    "customer_affected",
    "nonmember_responder",
    "member_responder",
    "comms",
    "manager",
    "admin",
]

LOGIN = "login"  # redirect to the sign-in page
PORTAL = "portal"  # customers are sent to their portal
DASHBOARD = "dashboard"  # staff are sent to the dashboard
DONE = "done"  # a change redirects back to the case

STAFF_PAGE = {"anonymous": LOGIN, "customer_other": PORTAL, "customer_affected": PORTAL, "nonmember_responder": 200,
              "member_responder": 200, "comms": 200, "manager": 200, "admin": 200}
CASE_PAGE = {**STAFF_PAGE, "nonmember_responder": 404}
CASE_WRITE_PAGE = {**CASE_PAGE, "comms": 403}
CASE_CHANGE = {**CASE_WRITE_PAGE, "member_responder": DONE, "manager": DONE, "admin": DONE}
OPEN_CASE_PAGE = {**STAFF_PAGE, "comms": 403}
PUBLIC = {role: 200 for role in ROLES}
APPROVAL = {**CASE_PAGE, "comms": DONE, "member_responder": 403, "manager": DONE, "admin": DONE}
EVIDENCE_DONE = "evidence_done"  # an evidence change redirects back to the evidence list
EVIDENCE_READ = {**CASE_PAGE, "customer_other": 404, "customer_affected": 404}
EVIDENCE_CHANGE = {**EVIDENCE_READ, "comms": 403, "member_responder": EVIDENCE_DONE, "manager": EVIDENCE_DONE, "admin": EVIDENCE_DONE}
DELIVERY_PAGE = {**STAFF_PAGE, "nonmember_responder": 403, "member_responder": 403, "comms": 403}
MANAGER_PAGE = {**STAFF_PAGE, "nonmember_responder": 403, "member_responder": 403, "comms": 403}
CUSTOMER_PAGE = {"anonymous": LOGIN, "customer_other": 404, "customer_affected": 200, **{role: DASHBOARD for role in ROLES[3:]}}
CUSTOMER_ADMIN_PAGE = {"anonymous": LOGIN, "customer_other": 403, "customer_affected": 403, **{role: DASHBOARD for role in ROLES[3:]},
                       "customer_admin": 200, "customer_admin_other": 200}
CUSTOMER_ADMIN_CHANGE = {**CUSTOMER_ADMIN_PAGE, "customer_admin": "redirect", "customer_admin_other": "redirect"}

# url name → (method, kwargs, expectations, POST data factory name)
MATRIX = {
    "cases:dashboard": ("get", {}, STAFF_PAGE),
    "cases:list": ("get", {}, STAFF_PAGE),
    # Search: every staff role, over the cases each may know (tests/cases/views/test_search.py).
    "cases:search": ("get", {}, STAFF_PAGE),
    # Bulk actions on the list: managers only; each case then checks its own permission.
    "cases:bulk": ("post", {}, {**MANAGER_PAGE, "manager": "redirect", "admin": "redirect"}),
    "cases:new": ("get", {}, OPEN_CASE_PAGE),
    "cases:detail": ("get", {"reference": "CASE"}, CASE_PAGE),
    "cases:edit": ("get", {"reference": "CASE"}, CASE_WRITE_PAGE),
    "cases:review": ("get", {"reference": "CASE"}, CASE_WRITE_PAGE),
    "cases:declare-breach": ("get", {"reference": "CASE"}, CASE_WRITE_PAGE),
    "cases:review-approve": ("post", {"reference": "CASE"}, APPROVAL),
    "cases:transition": ("post", {"reference": "CASE", "action": "stabilize"}, {**CASE_CHANGE, "comms": 403}),
    "cases:owner": ("post", {"reference": "CASE"}, CASE_CHANGE),
    "cases:member-add": ("post", {"reference": "CASE"}, CASE_CHANGE),
    "cases:member-remove": ("post", {"reference": "CASE", "username": "bystander"}, CASE_CHANGE),
    "cases:note-add": ("post", {"reference": "CASE"}, CASE_CHANGE),
    "cases:task-add": ("post", {"reference": "CASE"}, CASE_CHANGE),
    "cases:task-toggle": ("post", {"reference": "CASE", "task_id": "TASK"}, CASE_CHANGE),
    "cases:customer-add": ("post", {"reference": "CASE"}, CASE_CHANGE),
    "cases:customer-edit": ("post", {"reference": "CASE", "row_id": "ROW"}, CASE_CHANGE),
    "cases:customer-confirm": ("post", {"reference": "CASE", "row_id": "PENDING_ROW"}, APPROVAL),
    "cases:customer-withdraw": ("post", {"reference": "CASE", "row_id": "ROW"}, CASE_CHANGE),
    "cases:notice-record": ("post", {"reference": "CASE", "row_id": "ROW"}, {**CASE_CHANGE, "member_responder": 403}),
    "cases:notice-approve": ("post", {"reference": "CASE", "notice_id": "NOTICE"}, APPROVAL),
    "cases:delay-request": ("post", {"reference": "CASE", "deadline_id": "DEADLINE"}, CASE_CHANGE),
    "cases:delay-approve": ("post", {"reference": "CASE", "delay_id": "DELAY"}, {**CASE_CHANGE, "member_responder": 403}),
    "cases:update-new": ("get", {"reference": "CASE"}, CASE_WRITE_PAGE),
    "cases:update-approve": ("post", {"reference": "CASE", "update_id": "DRAFT"}, APPROVAL),
    # What a reviewer reads before approving: who writes the text and who approves it (Communications too).
    "cases:update-review": ("get", {"reference": "CASE", "update_id": "DRAFT"}, CASE_PAGE),
    "cases:public-review-read": ("get", {"reference": "CASE"}, CASE_PAGE),
    "cases:review-read": ("get", {"reference": "CASE"}, CASE_PAGE),
    # The Markdown preview renders what the writer sends, nothing stored: every staff role, no customer.
    "cases:markdown-preview": ("post", {}, STAFF_PAGE),
    "cases:public-review": ("get", {"reference": "CASE"}, CASE_WRITE_PAGE),
    "cases:public-review-approve": ("post", {"reference": "CASE"}, APPROVAL),
    "cases:repair-add": ("post", {"reference": "CASE"}, CASE_CHANGE),
    "cases:repair-status": ("post", {"reference": "CASE", "item_id": "REPAIR"}, CASE_CHANGE),
    # Reports write a timeline row, so they are POSTs (a GET is a 405); whoever reads the case may make one.
    "cases:report": ("post", {"reference": "CASE", "fmt": "pdf"}, CASE_PAGE),
    "portal:incident": ("get", {"reference": "CASE"}, CUSTOMER_PAGE),
    "portal:report": ("post", {"reference": "CASE"}, CUSTOMER_PAGE),
    # Metrics: every staff role, over the cases each may see; the scorecard is public.
    "metrics:page": ("get", {}, STAFF_PAGE),
    "metrics:csv": ("get", {}, STAFF_PAGE),
    "metrics:cases": ("get", {}, {**STAFF_PAGE, **{role: 404 for role in ROLES[3:]}}),  # no figure named
    "lessons:scorecard": ("get", {}, PUBLIC),
    "lessons:scorecard-feed": ("get", {}, PUBLIC),
    "portal:acknowledge": ("post", {"reference": "CASE"}, {**CUSTOMER_PAGE, "customer_affected": "redirect"}),
    "evidence:list": ("get", {"reference": "CASE"}, EVIDENCE_READ),
    "evidence:download": ("post", {"reference": "CASE", "evidence_id": "EVIDENCE"}, EVIDENCE_READ),
    "evidence:export": ("post", {"reference": "CASE"}, EVIDENCE_READ),
    "evidence:verify-all": ("post", {"reference": "CASE"}, EVIDENCE_CHANGE),
    "evidence:verify": ("post", {"reference": "CASE", "evidence_id": "EVIDENCE"}, EVIDENCE_CHANGE),
    "evidence:supersede": ("post", {"reference": "CASE", "evidence_id": "EVIDENCE"}, EVIDENCE_CHANGE),
    "evidence:legal-hold": ("post", {"reference": "CASE"}, {**EVIDENCE_CHANGE, "member_responder": 403}),
    "lessons:index": ("get", {}, PUBLIC),
    "lessons:detail": ("get", {"slug": "PUBLIC_SLUG"}, PUBLIC),
    "lessons:feed": ("get", {}, PUBLIC),
    "portal:index": ("get", {}, {"anonymous": LOGIN, "customer_other": 200, "customer_affected": 200,
                                 **{role: DASHBOARD for role in ROLES[3:]}}),
    "healthz": ("get", {}, PUBLIC),
    "login": ("get", {}, {**PUBLIC, **{role: "redirect" for role in ROLES[1:]}}),
    "logout": ("post", {}, {role: LOGIN for role in ROLES}),
    # Notifications: every signed-in user has an inbox; deliveries are for managers and admins.
    "notifications:inbox": ("get", {}, {**PUBLIC, "anonymous": LOGIN}),
    "notifications:read": ("post", {"delivery_id": "MANAGER_INBOX"}, {**{role: 404 for role in ROLES}, "anonymous": LOGIN,
                                                                       "manager": "redirect"}),
    "notifications:read-all": ("post", {}, {**{role: "redirect" for role in ROLES}, "anonymous": LOGIN}),
    "notifications:preferences": ("get", {}, {"anonymous": LOGIN, "customer_other": 200, "customer_affected": 200,
                                              **{role: DASHBOARD for role in ROLES[3:]}}),
    # Follow-up email choices (issue 16 item 2): customers only; another organisation's incident is refused
    # with the same redirect and message as one that does not exist (tests/notifications/test_subscriptions.py).
    "notifications:subscription": ("post", {}, {"anonymous": LOGIN, "customer_other": "redirect", "customer_affected": "redirect",
                                               **{role: DASHBOARD for role in ROLES[3:]}}),
    # The case page's breach-notice progress, refreshed while notices go out: whoever reads the case page.
    "notifications:notice-progress": ("get", {"reference": "CASE"}, CASE_PAGE),
    "notifications:deliveries": ("get", {}, DELIVERY_PAGE),
    "notifications:delivery": ("get", {"delivery_id": "DELIVERY"}, DELIVERY_PAGE),
    "notifications:delivery-retry": ("post", {"delivery_id": "DELIVERY"}, {**DELIVERY_PAGE, "manager": "redirect", "admin": "redirect"}),
    # Account security. Staff here have passed the second factor (tests/mfa.py); customers have none.
    "account:mfa-verify": ("get", {}, {**{role: "redirect" for role in ROLES}, "anonymous": LOGIN}),
    "account:mfa-setup": ("get", {}, {**{role: 200 for role in ROLES}, "anonymous": LOGIN}),
    "account:mfa-qr": ("get", {}, {**{role: 404 for role in ROLES}, "anonymous": LOGIN}),  # nothing pending
    "account:mfa-backup-codes": ("post", {}, {**{role: 200 for role in ROLES}, "anonymous": LOGIN,
                                              "customer_other": "redirect", "customer_affected": "redirect"}),
    "account:mfa-disable": ("post", {}, {**{role: 403 for role in ROLES}, "anonymous": LOGIN,
                                         "customer_other": "redirect", "customer_affected": "redirect"}),
    # Password and code together past a username lock; without both, the lockout page for everyone.
    "account:sign-in-with-code": ("post", {}, {role: 429 for role in ROLES}),
    "password_reset": ("get", {}, PUBLIC),
    "password_reset_done": ("get", {}, PUBLIC),
    "password_reset_confirm": ("get", {"uidb64": "MQ", "token": "not-a-token"}, PUBLIC),
    "password_reset_complete": ("get", {}, PUBLIC),
    # Alert triage: staff read; those who open cases act; attaching also needs work rights on the case.
    "alerts:queue": ("get", {}, STAFF_PAGE),
    "alerts:group": ("get", {"group_id": "GROUP"}, STAFF_PAGE),
    "alerts:observable": ("get", {"observable_id": "OBSERVABLE"}, STAFF_PAGE),
    "alerts:promote": ("post", {"group_id": "GROUP"}, {**OPEN_CASE_PAGE, **{role: "redirect" for role in ROLES[3:] if role != "comms"}}),
    "alerts:dismiss": ("post", {"group_id": "GROUP"}, {**OPEN_CASE_PAGE, **{role: "redirect" for role in ROLES[3:] if role != "comms"}}),
    "alerts:attach": ("post", {"group_id": "GROUP"}, CASE_CHANGE),
    # API tokens: each staff user manages their own; another's token (or none) is a 404.
    "api_tokens:list": ("get", {}, STAFF_PAGE),
    "api_tokens:revoke": ("post", {"token_id": 999999}, {**STAFF_PAGE, **{role: 404 for role in ROLES[3:]}}),
    # Playbooks: staff read them, managers keep them; skipping a step is a manager's deviation.
    "playbooks:list": ("get", {}, STAFF_PAGE),
    "playbooks:detail": ("get", {"slug": "PLAYBOOK"}, STAFF_PAGE),
    "playbooks:new": ("get", {}, MANAGER_PAGE),
    "playbooks:edit": ("get", {"slug": "PLAYBOOK"}, MANAGER_PAGE),
    "playbooks:apply": ("post", {"reference": "CASE"}, CASE_CHANGE),
    "playbooks:skip-step": ("post", {"reference": "CASE", "task_id": "STEP_TASK"}, {**CASE_CHANGE, "member_responder": 403}),
    # Clocks: managers record the decisions that start them and the reason to close anyway.
    "clocks:decision": ("post", {"reference": "CASE"}, {**CASE_CHANGE, "member_responder": 403}),
    "clocks:submission": ("post", {"reference": "CASE", "deadline_id": "DEADLINE"}, CASE_CHANGE),
    "clocks:close-override": ("post", {"reference": "CASE", "deadline_id": "DEADLINE"}, {**CASE_CHANGE, "member_responder": 403}),
    # Customer administrators (issue 16): their own organisation only; other customers 403, staff to the dashboard.
    "portal:organization": ("get", {}, CUSTOMER_ADMIN_PAGE),
    "portal:user-invite": ("post", {}, CUSTOMER_ADMIN_CHANGE),
    "portal:user-remove": ("post", {"username": "customer-contoso"}, {**CUSTOMER_ADMIN_CHANGE, "customer_admin_other": 404}),
    "portal:contact-add": ("post", {}, CUSTOMER_ADMIN_CHANGE),
    "portal:contact-remove": ("post", {}, CUSTOMER_ADMIN_CHANGE),
    "portal:feed-token": ("post", {}, CUSTOMER_ADMIN_PAGE),
    "notifications:webhooks": ("get", {}, CUSTOMER_ADMIN_PAGE),
    "notifications:webhook": ("get", {"endpoint_id": "ENDPOINT"}, {**CUSTOMER_ADMIN_PAGE, "customer_admin_other": 404}),
    "notifications:webhook-rotate": ("post", {"endpoint_id": "ENDPOINT"}, {**CUSTOMER_ADMIN_PAGE, "customer_admin_other": 404}),
    "notifications:webhook-disable": ("post", {"endpoint_id": "ENDPOINT"}, {**CUSTOMER_ADMIN_CHANGE, "customer_admin_other": 404}),
    "notifications:webhook-retry": ("post", {"endpoint_id": "ENDPOINT", "delivery_id": "ENDPOINT_DELIVERY"},
                                    {**CUSTOMER_ADMIN_CHANGE, "customer_admin_other": 404}),
    # The notification pack exists only after a delivered breach notice (none in this world: 404; tests/cases/views/test_notification_pack.py).
    "portal:pack-pdf": ("post", {"reference": "CASE"}, {**CUSTOMER_PAGE, "customer_affected": 404}),
    "portal:pack-json": ("get", {"reference": "CASE"}, {**CUSTOMER_PAGE, "customer_affected": 404}),
    # Private feeds answer a read token, never a session: without one, a 404 for everyone (tests/cases/views/test_customer_feeds.py).
    "portal:feed-atom": ("get", {}, {role: 404 for role in ROLES}),
    "portal:feed-json": ("get", {}, {role: 404 for role in ROLES}),
    "well_known:notice-signing-key": ("get", {}, PUBLIC),
    # Questions and files from the incident page (issue 16, item 6): customers of the affected organisation only;
    # the case team answers, and a second person approves the first written reply on a breach.
    "portal:question-ask": ("post", {"reference": "CASE"}, {**CUSTOMER_PAGE, "customer_affected": "redirect"}),
    "portal:file-upload": ("post", {"reference": "CASE"}, {**CUSTOMER_PAGE, "customer_affected": "redirect"}),
    "cases:question-reply": ("post", {"reference": "CASE", "question_id": "QUESTION"}, CASE_CHANGE),
    "cases:question-reply-approve": ("post", {"reference": "CASE", "reply_id": "REPLY"}, APPROVAL),
}

# The customer administrators of Contoso (affected) and Fabrikam (not): a URL whose row does not name them
# answers them as it answers their organisation's ordinary user.
CUSTOMER_ADMINS = {"customer_admin": "customer_affected", "customer_admin_other": "customer_other"}

# Django admin is covered by tests/test_admin.py; these are its own views, not ours.
NOT_OURS = {"admin"}
# The REST API has its own matrix (scopes × roles × endpoints): tests/cases/api/test_api_authorization.py.
NOT_OURS.add("api")


@pytest.fixture
def world(manager, responder, other_responder, comms, admin, contoso, fabrikam, contoso_user, fabrikam_user):
    """A diagnosing case owned by the manager, with the responder as member and Contoso affected."""
    from cases.models import Deadline, DeadlineDelay

    case = case_in_stage(Case.Status.DIAGNOSING, manager=manager)
    case_services.add_member(case=case, by=manager, user=responder)
    bystander = CommsFactory(username="bystander")
    case_services.add_member(case=case, by=manager, user=bystander)
    task = TaskFactory(case=case, by=manager)
    row = AffectedCustomerFactory(case=case, by=manager, organization=contoso)
    pending_row = AffectedCustomerFactory(case=case, by=responder, organization=OrganizationFactory(name="Northwind"), confirm=False)
    notice = OutOfBandNotice.objects.create(row=row, channel="phone", person_reached="Their CISO", reached_at=timezone.now(),
                                            evidence_reference="call-log 42", recorded_by=manager)
    deadline = Deadline.objects.create(case=case, kind=Deadline.Kind.GDPR_ART33, started_at=timezone.now(),
                                       due_at=timezone.now() + timedelta(hours=72))
    delay = DeadlineDelay.objects.create(deadline=deadline, new_due_at=deadline.due_at + timedelta(hours=2),
                                         reason="Regulator asked for the full report.", requested_by=second_manager_user())
    published = communications.draft_update(case=case, by=responder, status="identified", public_title="Storage listing exposure",
                                            what_happened="Bucket listings were exposed.")
    communications.approve_update(update=published, by=comms)
    draft = communications.draft_update(case=case, by=responder, public_title="Follow-up", what_happened="More detail.")
    communications.save_published_review(case=case, by=responder, **REVIEW_TEXT)
    from cases.services.review import save_review

    save_review(case=case, by=responder, what_happened="Listing exposed for 3 hours.", what_went_wrong="Policy inversion.")
    repair = communications.add_repair_item(case=case, by=manager, title="Add a canary for policy inversions")
    public_case = case_in_stage(Case.Status.STABILIZING, manager=manager)
    public_review = communications.save_published_review(case=public_case, by=responder_for(public_case, manager), **{**REVIEW_TEXT, "audience": "public"})
    communications.approve_published_review(review=public_review, by=comms)
    from django.core.files.base import ContentFile

    from cases.services import evidence as evidence_services

    item = evidence_services.add_evidence(case=case, by=manager, content=ContentFile(b"GET /admin HTTP/1.1\n"), original_name="proxy.log")
    case.refresh_from_db()
    users = {
        "anonymous": None,
        "customer_other": fabrikam_user,
        "customer_affected": contoso_user,
        "nonmember_responder": other_responder,
        "member_responder": responder,
        "comms": comms,
        "manager": manager,
        "admin": admin,
        **customer_admins(contoso, fabrikam),
    }
    ids = {"CASE": case.reference, "TASK": task.pk, "ROW": row.pk, "PENDING_ROW": pending_row.pk, "NOTICE": notice.pk, "DEADLINE": deadline.pk, "DELAY": delay.pk,
           "DRAFT": draft.pk, "REPAIR": repair.pk, "PUBLIC_SLUG": public_review.slug,
           "EVIDENCE": item.pk}
    ids.update(notification_ids(manager))
    from tests.cases.alerts.samples import alert_ids

    ids.update(alert_ids(manager))
    ids.update(playbook_ids(case, manager))
    ids.update(webhook_ids(contoso))
    ids.update(question_ids(case, contoso_user, responder))
    case.refresh_from_db()  # applying the playbook raised the version the forms must carry
    return {"case": case, "users": users, "ids": ids, "contoso": contoso}


def customer_admins(contoso, fabrikam):
    from tests.factories import CustomerUserFactory

    return {"customer_admin": CustomerUserFactory(username="contoso-admin", organization=contoso, is_customer_admin=True),
            "customer_admin_other": CustomerUserFactory(username="fabrikam-admin", organization=fabrikam, is_customer_admin=True)}


def webhook_ids(contoso):
    from notifications.models import Delivery, WebhookEndpoint

    endpoint = WebhookEndpoint.objects.create(organization=contoso, url="https://hooks.contoso.example/irt", secret="whsec_dGVzdA==")
    notice = Delivery.objects.filter(organization=contoso).first().notification
    delivery = Delivery.objects.create(notification=notice, channel="webhook", organization=contoso, endpoint=endpoint,
                                       address=endpoint.url, status="dead", attempts=5)
    return {"ENDPOINT": endpoint.pk, "ENDPOINT_DELIVERY": delivery.pk}


def question_ids(case, contoso_user, responder):
    """Contoso's question, and a reply by the responder that waits for a second person (as the first one on a breach)."""
    from cases.models.questions import QuestionReply
    from cases.services import customer_questions

    question = customer_questions.ask_question(case=case, by=contoso_user, text="Which of our buckets were listed?")
    reply = QuestionReply.objects.create(question=question, author=responder, text="Only contoso-exports.", needs_approval=True)
    return {"QUESTION": question.pk, "REPLY": reply.pk}


def playbook_ids(case, manager):
    from cases.services import playbooks

    step = {"stage": Case.Status.DIAGNOSING, "order": 1, "title": "Export the access logs", "nist_function": "respond"}
    followed = playbooks.save_playbook(by=manager, playbook=None, slug="exposure", name="Exposure", purpose="Data read.",
                                       auto_apply=False, criteria={}, steps=[step])
    other = playbooks.save_playbook(by=manager, playbook=None, slug="dos", name="Denial of service", purpose="Floods.",
                                    auto_apply=False, criteria={}, steps=[])
    playbooks.apply_playbook(case=case, version=followed, by=manager)
    return {"PLAYBOOK": "exposure", "PLAYBOOK_OTHER": other.pk, "STEP_TASK": case.tasks.get(step__isnull=False).pk}


def notification_ids(manager):
    from notifications.models import Delivery

    return {"MANAGER_INBOX": Delivery.objects.filter(user=manager, channel="inbox").values_list("pk", flat=True).first(),
            "DELIVERY": Delivery.objects.exclude(channel="inbox").values_list("pk", flat=True).first()}


REVIEW_TEXT = {
    "title": "Cross-account listing", "impact_started_at": timezone.now() - timedelta(days=1),
    "who_was_affected": "A small number of storage customers.", "what_happened": "Listings were exposed.",
    "what_went_wrong": "A policy engine release inverted a rule.", "how_we_responded": "Rolled back.",
}


def responder_for(case, manager):
    from tests.factories import StaffFactory

    author = StaffFactory()
    case_services.add_member(case=case, by=manager, user=author)
    return author


def second_manager_user():
    from tests.factories import ManagerFactory

    return ManagerFactory(username="delay-requester")


def post_data(url_name, world):
    case = world["case"]
    data = {
        "cases:transition": {"version": case.version, "note": "Contained by revoking the key."},
        "cases:owner": {"version": case.version, "owner": ""},
        "cases:member-add": {"user": world["users"]["comms"].pk},
        "cases:note-add": {"text": "Checked the load balancer logs."},
        "cases:task-add": {"title": "Rotate the signing key"},
        "cases:customer-add": {"organization": world["users"]["customer_other"].organization.pk, "data_lost": "on"},
        "cases:customer-edit": {"data_disclosed": "on", "impact_statement": "Three objects were read."},
        "cases:customer-withdraw": {"reason": "Their bucket was not in the affected region."},
        "cases:notice-record": {"channel": "phone", "person_reached": "Their CISO", "reached_at": "2026-01-01 10:00",
                                "evidence_reference": "call-log 42"},
        "cases:delay-request": {"new_due_at": "2099-01-01 00:00", "reason": "Waiting for the regulator."},
        "cases:repair-add": {"title": "Alert on inverted deny rules"},
        "cases:repair-status": {"status": "in_progress"},
        "evidence:supersede": {"reason": "Collected from the wrong host."},
        "evidence:legal-hold": {"hold": "on", "reason": "Litigation hold notice from Legal."},
        "alerts:attach": {"case": case.reference},
        "alerts:dismiss": {"reason": "benign", "note": "The weekly scanner."},
        "playbooks:apply": {"version": world["ids"]["PLAYBOOK_OTHER"]},
        "playbooks:skip-step": {"reason": "The logs were exported by the customer."},
        "clocks:decision": {"kind": "material", "note": "Disclosure committee: material."},
        "clocks:submission": {"content": "Art. 33 form sent.", "reference_number": "CNIL-42"},
        "clocks:close-override": {"reason": "The authority confirmed no notification is needed."},
        "portal:user-invite": {"invite-email": "new.analyst@example.com"},
        "portal:contact-add": {"contact-email": "soc@example.com"},
        "portal:contact-remove": {"contact-email": "security@contoso.example"},
        "portal:question-ask": {"text": "Were our exports read?"},
        "notifications:subscription": {"incident": case.reference, "mine": "skip"},
        "cases:question-reply": {"text": "Only the listing, not the objects."},
    }
    if url_name == "portal:file-upload":
        from django.core.files.uploadedfile import SimpleUploadedFile

        return {"file": SimpleUploadedFile("access.log", b"2026-12-01T10:00:00Z GET /exports 200\n", "text/plain")}
    return data.get(url_name, {})


def resolve_kwargs(kwargs, ids):
    return {key: ids.get(value, value) if isinstance(value, str) else value for key, value in kwargs.items()}


def check(response, expected, *, case_url):
    if expected == EVIDENCE_DONE:
        assert response.status_code == 302 and response["Location"] == case_url + "evidence/", (response.status_code, response.get("Location"))
        return
    if expected == LOGIN:
        assert response.status_code == 302 and reverse("login") in response["Location"], response
    elif expected == PORTAL:
        assert response.status_code == 302 and response["Location"] == reverse("portal:index")
    elif expected == DASHBOARD:
        assert response.status_code == 302 and response["Location"] == reverse("cases:dashboard")
    elif expected == DONE:
        assert response.status_code == 302 and response["Location"] == case_url, (response.status_code, response.get("Location"))
    elif expected == "redirect":
        assert response.status_code == 302
    else:
        assert response.status_code == expected, (response.status_code, response.get("Location"))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url_name", sorted(MATRIX))
def test_url_answers_each_role_as_the_matrix_says(client, world, url_name, role):
    method, kwargs, expectations = MATRIX[url_name]
    user = world["users"][role]
    if user is not None:
        client.force_login(user)
    url = reverse(url_name, kwargs=resolve_kwargs(kwargs, world["ids"]))
    events_before = TimelineEvent.objects.filter(case=world["case"]).exclude(kind=TimelineEvent.Kind.REFUSED).count()
    if method == "get":
        response = client.get(url)
    else:
        response = client.post(url, post_data(url_name, world))
    check(response, expectations[role], case_url=world["case"].get_absolute_url())
    if expectations[role] in (LOGIN, PORTAL, 403, 404) and url_name.startswith(("cases:", "evidence:")):
        events_after = TimelineEvent.objects.filter(case=world["case"]).exclude(kind=TimelineEvent.Kind.REFUSED).count()
        assert events_after == events_before, "a refused request changed the case"


@pytest.mark.parametrize("role", sorted(CUSTOMER_ADMINS))
@pytest.mark.parametrize("url_name", sorted(MATRIX))
def test_url_answers_customer_administrators_as_the_matrix_says(client, world, url_name, role):
    method, kwargs, expectations = MATRIX[url_name]
    client.force_login(world["users"][role])
    url = reverse(url_name, kwargs=resolve_kwargs(kwargs, world["ids"]))
    events_before = TimelineEvent.objects.filter(case=world["case"]).exclude(kind=TimelineEvent.Kind.REFUSED).count()
    response = client.get(url) if method == "get" else client.post(url, post_data(url_name, world))
    expected = expectations.get(role, expectations[CUSTOMER_ADMINS[role]])
    check(response, expected, case_url=world["case"].get_absolute_url())
    if expected in (LOGIN, PORTAL, 403, 404) and url_name.startswith(("cases:", "evidence:")):
        events_after = TimelineEvent.objects.filter(case=world["case"]).exclude(kind=TimelineEvent.Kind.REFUSED).count()
        assert events_after == events_before, "a refused request changed the case"


@pytest.mark.parametrize("url_name", sorted(name for name, spec in MATRIX.items() if spec[0] == "post"))
def test_post_only_urls_refuse_get(client, world, url_name):
    client.force_login(world["users"]["manager"])
    _, kwargs, _ = MATRIX[url_name]
    response = client.get(reverse(url_name, kwargs=resolve_kwargs(kwargs, world["ids"])))
    assert response.status_code == 405


# Pages of things tied to a restricted case: a manager who is not a member gets the case's 404.
RESTRICTED_ROLES = [*ROLES, "member_manager"]
RESTRICTED_DELIVERY_PAGE = {**DELIVERY_PAGE, "manager": 404, "member_manager": 200}
RESTRICTED_MATRIX = {
    "notifications:delivery": ("get", RESTRICTED_DELIVERY_PAGE),
    "notifications:delivery-retry": ("post", {**RESTRICTED_DELIVERY_PAGE, "member_manager": "redirect", "admin": "redirect"}),
}


@pytest.fixture
def restricted_world(manager, second_manager, responder, other_responder, comms, admin, contoso, contoso_user, fabrikam_user):
    """A restricted case owned by the second manager, the responder a member, with a dead email to Contoso."""
    from notifications.models import Delivery, Notification
    from notifications.services.outbox import create_notification

    case = case_in_stage(Case.Status.DIAGNOSING, manager=second_manager, restricted=True)
    case_services.add_member(case=case, by=second_manager, user=responder)
    notification = create_notification(
        kind=Notification.Kind.BREACH_NOTICE, case=case, title="Restricted notice",
        deliveries=[Delivery(channel=Delivery.Channel.EMAIL, address="ciso@contoso.example", organization=contoso)],
    )
    delivery = notification.deliveries.get()
    Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.DEAD)
    users = {"anonymous": None, "customer_other": fabrikam_user, "customer_affected": contoso_user,
             "nonmember_responder": other_responder, "member_responder": responder, "comms": comms,
             "manager": manager, "member_manager": second_manager, "admin": admin}
    return {"users": users, "delivery": delivery}


@pytest.mark.parametrize("role", RESTRICTED_ROLES)
@pytest.mark.parametrize("url_name", sorted(RESTRICTED_MATRIX))
def test_restricted_case_page_answers_each_role_as_the_matrix_says(client, restricted_world, url_name, role):
    from notifications.models import Delivery

    method, expectations = RESTRICTED_MATRIX[url_name]
    user = restricted_world["users"][role]
    if user is not None:
        client.force_login(user)
    delivery = restricted_world["delivery"]
    response = getattr(client, method)(reverse(url_name, args=[delivery.pk]))
    check(response, expectations[role], case_url="")
    if expectations[role] in (LOGIN, PORTAL, 403, 404):
        assert Delivery.objects.get(pk=delivery.pk).status == Delivery.Status.DEAD, "a refused request changed the delivery"


def test_delivery_list_shows_a_restricted_case_only_to_those_who_may_know_it(client, restricted_world):
    expected = {"manager": False, "member_manager": True, "admin": True}
    for role, sees in expected.items():
        client.force_login(restricted_world["users"][role])
        page = client.get(reverse("notifications:deliveries")).content.decode()
        assert ("ciso@contoso.example" in page) is sees, role


def _url_names(resolver: URLResolver, namespace: str = "") -> set[str]:
    names = set()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            child = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            if pattern.namespace in NOT_OURS:
                continue
            names |= _url_names(pattern, child)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(f"{namespace}{pattern.name}")
    return names


def test_every_url_is_in_the_matrix():
    missing = _url_names(get_resolver()) - set(MATRIX)
    assert not missing, f"URLs without authorization expectations: {sorted(missing)}"


def test_unnamed_urls_do_not_exist():
    def unnamed(resolver):
        for pattern in resolver.url_patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace not in NOT_OURS:
                    yield from unnamed(pattern)
            elif not pattern.name and "static" not in str(pattern.pattern):
                yield str(pattern.pattern)

    assert list(unnamed(get_resolver())) == []
