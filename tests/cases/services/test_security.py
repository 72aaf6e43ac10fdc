"""Account security: the second factor, lockout, password reset, sessions and the audit log."""

import re
import time
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from cases.models import SecurityEvent, SignedInSession
from cases.services import mfa, security_log, sessions
from tests.factories import PASSWORD
from tests.mfa import TEST_TOTP_SECRET, login_without_second_factor, totp_now

VERIFY = reverse("account:mfa-verify")
SETUP = reverse("account:mfa-setup")


def sign_in_with_password(client, username, password=PASSWORD, **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def page_text(response, *names) -> str:
    """Return the page with the given names and the per-response CSRF token blanked out."""
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', 'name="csrfmiddlewaretoken"', response.content.decode())
    for name in names:
        text = text.replace(name, "USER")
    return text


@pytest.fixture
def enrolled_manager(manager):
    mfa.enrol_totp_with_secret(user=manager, secret_b32=TEST_TOTP_SECRET)
    return manager


# -- the second factor -------------------------------------------------------------------------


@pytest.mark.parametrize("url_name", ["cases:dashboard", "cases:list", "cases:new", "admin:index"])
def test_staff_with_only_a_password_are_sent_to_the_second_factor(client, enrolled_manager, url_name):
    sign_in_with_password(client, "manager")
    response = client.get(reverse(url_name))
    assert response.status_code == 302
    assert response["Location"].startswith(VERIFY) or response["Location"].startswith(reverse("admin:login"))
    followed = client.get(reverse(url_name), follow=True)
    assert followed.request["PATH_INFO"] == VERIFY


def test_staff_without_an_authenticator_must_set_one_up_first(client, responder):
    sign_in_with_password(client, "responder")
    response = client.get(reverse("cases:dashboard"))
    assert response.status_code == 302 and response["Location"].startswith(SETUP)


def test_staff_required_refuses_an_unverified_session_even_without_the_middleware(client, enrolled_manager, settings):
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != "cases.views.middleware.AccountSecurityMiddleware"]
    login_without_second_factor(client, enrolled_manager)
    response = client.get(reverse("cases:dashboard"))
    assert response.status_code == 302 and response["Location"].startswith(VERIFY)


def test_admin_refuses_an_unverified_superuser(client, admin, settings):
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != "cases.views.middleware.AccountSecurityMiddleware"]
    login_without_second_factor(client, admin)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]
    # Admin's own login page has no password form of its own: it sends a signed-in admin on to
    # the second factor (and anyone signed out to the site's sign-in).
    login_page = client.get(reverse("admin:login"))
    assert login_page.status_code == 302 and login_page["Location"].startswith(VERIFY)
    client.logout()
    login_page = client.get(reverse("admin:login"))
    assert login_page.status_code == 302 and login_page["Location"].startswith(reverse("login"))


def test_manager_passes_the_second_factor_and_gets_a_new_session_key(client, enrolled_manager):
    sign_in_with_password(client, "manager")
    key_after_password = client.session.session_key
    response = client.post(VERIFY, {"otp_token": totp_now(), "next": "/cases/"})
    assert response.status_code == 302 and response["Location"] == "/cases/"
    assert client.session.session_key != key_after_password
    assert client.get(reverse("cases:dashboard")).status_code == 200
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.MFA_VERIFIED)
    assert event.user == enrolled_manager and event.ip_address == "127.0.0.1"


def test_second_factor_does_not_follow_a_next_url_to_another_site(client, enrolled_manager):
    sign_in_with_password(client, "manager")
    response = client.post(VERIFY, {"otp_token": totp_now(), "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_a_used_code_cannot_be_replayed(client, enrolled_manager):
    code = totp_now()
    sign_in_with_password(client, "manager")
    assert client.post(VERIFY, {"otp_token": code})["Location"] == "/"
    client.post(reverse("logout"))
    sign_in_with_password(client, "manager")
    response = client.post(VERIFY, {"otp_token": code})
    assert response.status_code == 200 and b"did not work" in response.content


def test_wrong_codes_count_toward_the_lockout(client, enrolled_manager, settings):
    settings.AXES_FAILURE_LIMIT = 3
    sign_in_with_password(client, "manager")
    for _ in range(2):
        response = client.post(VERIFY, {"otp_token": "000000"})
        assert response.status_code == 200
    response = client.post(VERIFY, {"otp_token": "000000"})
    assert response.status_code == 429
    assert b"Too many attempts" in response.content
    # Locked out means signed out, and the right password no longer opens a session for now.
    assert client.get(reverse("cases:dashboard"))["Location"].startswith(reverse("login"))
    assert sign_in_with_password(client, "manager").status_code == 429
    kinds = list(SecurityEvent.objects.values_list("kind", flat=True))
    assert kinds.count(SecurityEvent.Kind.MFA_FAILED) == 3
    assert SecurityEvent.Kind.LOCKED_OUT in kinds


def test_backup_codes_work_once_each(client, enrolled_manager, settings):
    settings.OTP_STATIC_THROTTLE_FACTOR = 0  # django-otp's own back-off after a wrong code; not under test here
    codes = mfa.create_backup_codes(user=enrolled_manager)
    assert len(codes) == mfa.BACKUP_CODE_COUNT == len(set(codes))
    sign_in_with_password(client, "manager")
    assert client.post(VERIFY, {"otp_token": codes[0]})["Location"] == "/"
    assert StaticToken.objects.filter(token=codes[0]).count() == 0
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.BACKUP_CODE_USED, user=enrolled_manager).exists()
    client.post(reverse("logout"))
    sign_in_with_password(client, "manager")
    assert client.post(VERIFY, {"otp_token": codes[0]}).status_code == 200
    assert client.post(VERIFY, {"otp_token": codes[1]})["Location"] == "/"


def test_responder_enrols_an_authenticator_from_the_qr_code(client, responder, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # django-otp's own back-off after a wrong code; not under test here
    sign_in_with_password(client, "responder")
    page = client.get(SETUP)
    assert page.status_code == 200
    assert f'src="{reverse("account:mfa-qr")}"'.encode() in page.content
    secret = re.search(rb'id="totp-secret">([A-Z2-7]+)<', page.content).group(1).decode()
    qr = client.get(reverse("account:mfa-qr"))
    assert qr.status_code == 200 and qr["Content-Type"] == "image/svg+xml" and "no-store" in qr["Cache-Control"]
    assert qr.content.lstrip().startswith(b"<?xml") and b"<svg" in qr.content

    assert client.post(SETUP, {"otp_token": "123456"}).status_code == 200
    assert not TOTPDevice.objects.filter(user=responder, confirmed=True).exists()
    done = client.post(SETUP, {"otp_token": totp_now(secret), "next": "/cases/"})
    assert done.status_code == 200 and b"Your backup codes" in done.content
    assert TOTPDevice.objects.filter(user=responder, confirmed=True).count() == 1
    assert mfa.remaining_backup_codes(responder) == mfa.BACKUP_CODE_COUNT
    assert client.get(reverse("cases:dashboard")).status_code == 200
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.MFA_ENROLLED, user=responder).exists()
    # The secret of a confirmed authenticator is never shown again.
    assert client.get(reverse("account:mfa-qr")).status_code == 404


def test_a_password_alone_cannot_replace_an_enrolled_authenticator(client, enrolled_manager):
    sign_in_with_password(client, "manager")
    assert client.get(SETUP)["Location"] == VERIFY
    assert client.post(SETUP, {"otp_token": totp_now()})["Location"] == VERIFY
    assert client.get(reverse("account:mfa-qr")).status_code == 404
    assert TOTPDevice.objects.filter(user=enrolled_manager).count() == 1


def test_customer_may_turn_two_factor_on_and_off(client, contoso_user):
    sign_in_with_password(client, "customer-contoso")
    assert client.get(reverse("portal:index")).status_code == 200  # optional for customers
    page = client.get(SETUP)
    secret = re.search(rb'id="totp-secret">([A-Z2-7]+)<', page.content).group(1).decode()
    assert b"Optional for customer accounts" in page.content
    client.post(SETUP, {"otp_token": totp_now(secret)})
    client.post(reverse("logout"))

    sign_in_with_password(client, "customer-contoso")
    assert client.get(reverse("portal:index"))["Location"].startswith(VERIFY)
    client.post(VERIFY, {"otp_token": totp_now(secret, offset_steps=1)})
    assert client.get(reverse("portal:index")).status_code == 200
    assert client.post(reverse("account:mfa-disable"))["Location"] == SETUP
    assert not mfa.has_mfa(contoso_user)
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.MFA_DISABLED, user=contoso_user).exists()


def test_staff_cannot_turn_two_factor_off(client, manager):
    client.force_login(manager)
    assert client.post(reverse("account:mfa-disable")).status_code == 403
    assert mfa.has_mfa(manager)


def test_new_backup_codes_replace_the_old_ones(client, manager):
    client.force_login(manager)
    old = mfa.create_backup_codes(user=manager)
    response = client.post(reverse("account:mfa-backup-codes"))
    assert response.status_code == 200
    assert not StaticToken.objects.filter(token__in=old).exists()
    assert mfa.remaining_backup_codes(manager) == mfa.BACKUP_CODE_COUNT


# -- lockout -----------------------------------------------------------------------------------


def test_wrong_passwords_lock_the_username_and_the_answer_does_not_say_whether_it_exists(client, responder, settings):
    settings.AXES_FAILURE_LIMIT = 3
    answers = {}
    for username in ("responder", "nobody-by-this-name"):
        for _ in range(3):
            sign_in_with_password(client, username, "wrong", REMOTE_ADDR="203.0.113.5")
        locked = sign_in_with_password(client, username, PASSWORD, REMOTE_ADDR="203.0.113.5")
        answers[username] = (locked.status_code, page_text(locked, username))
    assert answers["responder"] == answers["nobody-by-this-name"]
    assert answers["responder"][0] == 429
    assert "_auth_user_id" not in client.session
    # Three wrong passwords, then the attempt refused while locked out.
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.LOGIN_FAILED, username="nobody-by-this-name",
                                        user=None).count() == 4


def test_wrong_passwords_from_another_address_do_not_lock_out_the_real_user(client, responder, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for i in range(10):
        sign_in_with_password(client, "responder", "wrong", REMOTE_ADDR=f"198.51.100.{i % 2 + 1}")
    assert sign_in_with_password(client, "responder", PASSWORD, REMOTE_ADDR="198.51.100.1").status_code == 429
    assert sign_in_with_password(client, "responder", PASSWORD, REMOTE_ADDR="192.0.2.50").status_code == 302


def test_one_persons_typos_do_not_lock_out_colleagues_behind_the_same_address(client, responder, manager, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        sign_in_with_password(client, "manager", "wrong", REMOTE_ADDR="192.0.2.7")
    assert sign_in_with_password(client, "manager", PASSWORD, REMOTE_ADDR="192.0.2.7").status_code == 429
    assert sign_in_with_password(client, "responder", PASSWORD, REMOTE_ADDR="192.0.2.7").status_code == 302


def test_many_usernames_from_one_address_hit_the_address_ceiling(client, responder, settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.IRT_LOCKOUT_ADDRESS_FAILURES = 6
    for i in range(5):
        assert sign_in_with_password(client, f"guess{i}", "wrong", REMOTE_ADDR="192.0.2.7").status_code == 200
    assert sign_in_with_password(client, "guess5", "wrong", REMOTE_ADDR="192.0.2.7").status_code == 429
    refused = sign_in_with_password(client, "responder", PASSWORD, REMOTE_ADDR="192.0.2.7")
    assert refused.status_code == 429 and "_auth_user_id" not in client.session
    unknown = sign_in_with_password(client, "nobody-by-this-name", PASSWORD, REMOTE_ADDR="192.0.2.7")
    assert page_text(unknown, "nobody-by-this-name") == page_text(refused, "responder")
    assert sign_in_with_password(client, "responder", PASSWORD, REMOTE_ADDR="192.0.2.8").status_code == 302


def test_address_ceiling_defaults_to_fifty_failures():
    from irt import settings as configured

    assert configured.IRT_LOCKOUT_ADDRESS_FAILURES == 50
    assert configured.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]


LOCKED_SIGN_IN = reverse("account:sign-in-with-code")


def lock_out(client, username, *, limit=3, address="198.51.100.9"):
    for _ in range(limit):
        sign_in_with_password(client, username, "wrong", REMOTE_ADDR=address)
    assert sign_in_with_password(client, username, PASSWORD, REMOTE_ADDR=address).status_code == 429


def test_locked_out_owner_gets_through_with_password_and_second_factor(client, enrolled_manager, settings):
    settings.AXES_FAILURE_LIMIT = 3
    lock_out(client, "manager")
    response = client.post(LOCKED_SIGN_IN, {"username": "manager", "password": PASSWORD, "otp_token": totp_now()},
                           REMOTE_ADDR="198.51.100.9")
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get(reverse("cases:dashboard"), REMOTE_ADDR="198.51.100.9").status_code == 200
    # The lock of this username at this address is over; a plain sign-in works again.
    client.post(reverse("logout"))
    assert sign_in_with_password(client, "manager", PASSWORD, REMOTE_ADDR="198.51.100.9").status_code == 302
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.MFA_VERIFIED, user=enrolled_manager,
                                        detail__contains="past the username lock").exists()


def test_past_the_lock_a_right_password_alone_says_nothing(client, enrolled_manager, settings):
    settings.AXES_FAILURE_LIMIT = 3
    lock_out(client, "manager")
    answers = [
        client.post(LOCKED_SIGN_IN, {"username": username, "password": password, "otp_token": "000000"},
                    REMOTE_ADDR="198.51.100.9")
        for username, password in [("manager", PASSWORD), ("manager", "wrong"), ("nobody-by-this-name", PASSWORD)]
    ]
    assert {a.status_code for a in answers} == {429}
    assert len({page_text(a, "nobody-by-this-name", "manager") for a in answers}) == 1
    assert "_auth_user_id" not in client.session


def test_a_user_without_a_second_factor_cannot_pass_the_lock(client, contoso_user, settings):
    settings.AXES_FAILURE_LIMIT = 3
    lock_out(client, "customer-contoso")
    response = client.post(LOCKED_SIGN_IN, {"username": "customer-contoso", "password": PASSWORD, "otp_token": "123456"},
                           REMOTE_ADDR="198.51.100.9")
    assert response.status_code == 429 and "_auth_user_id" not in client.session


def test_the_address_ceiling_is_not_passed_with_a_second_factor(client, enrolled_manager, settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.IRT_LOCKOUT_ADDRESS_FAILURES = 4
    for i in range(4):
        sign_in_with_password(client, f"guess{i}", "wrong", REMOTE_ADDR="198.51.100.9")
    response = client.post(LOCKED_SIGN_IN, {"username": "manager", "password": PASSWORD, "otp_token": totp_now()},
                           REMOTE_ADDR="198.51.100.9")
    assert response.status_code == 429 and "_auth_user_id" not in client.session


def test_locked_sign_in_refuses_get(client, db):
    assert client.get(LOCKED_SIGN_IN).status_code == 405


@pytest.mark.parametrize("data", [{}, {"username": "x" * 5_000, "password": "p", "otp_token": "1"},
                                  {"username": "manager\x00", "password": "\x00", "otp_token": "9" * 5_000},
                                  {"username": ["a", "b"], "password": "", "otp_token": ""}])
def test_locked_sign_in_survives_junk_with_the_lockout_page(client, enrolled_manager, data):
    response = client.post(LOCKED_SIGN_IN, data)
    assert response.status_code == 429 and "_auth_user_id" not in client.session


def test_client_address_comes_from_the_proxy_only_behind_a_trusted_proxy(rf, settings):
    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9")
    settings.SECURE_PROXY_SSL_HEADER = None
    assert security_log.client_ip(request) == "10.0.0.1"
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert security_log.client_ip(request) == "203.0.113.9"


# -- password reset ----------------------------------------------------------------------------


def run_worker():
    call_command("db_worker", batch=True, no_startup_delay=True, reload=False, verbosity=0)


def ask_for_reset(client, email, **extra):
    return client.post(reverse("password_reset"), {"email": email}, **extra)


@pytest.mark.django_db(transaction=True)  # the worker closes connections between tasks
def test_password_reset_says_the_same_for_known_and_unknown_addresses(client, responder, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        known = ask_for_reset(client, responder.email)
        unknown = ask_for_reset(client, "nobody@irt.example")
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == reverse("password_reset_done")
    run_worker()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [responder.email]
    link = re.search(r"http://127\.0\.0\.1:8000(/accounts/reset/\S+/)", mail.outbox[0].body).group(1)
    form = client.get(link, follow=True)
    assert form.status_code == 200 and b"new_password1" in form.content
    done = client.post(form.request["PATH_INFO"], {"new_password1": "a-new-long-passphrase-42", "new_password2": "a-new-long-passphrase-42"})
    assert done.status_code == 302
    responder.refresh_from_db()
    assert responder.check_password("a-new-long-passphrase-42")
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.PASSWORD_CHANGED, user=responder).exists()


@pytest.mark.django_db(transaction=True)  # the worker closes connections between tasks
def test_password_reset_link_uses_the_site_url_whatever_the_host_header(client, responder, settings,
                                                                        django_capture_on_commit_callbacks):
    settings.IRT_SITE_URL = "https://irt.example.com"
    settings.ALLOWED_HOSTS = ["*"]
    with django_capture_on_commit_callbacks(execute=True):
        ask_for_reset(client, responder.email, HTTP_HOST="attacker.example")
    run_worker()
    [message] = mail.outbox
    assert "https://irt.example.com/accounts/reset/" in message.body
    assert "attacker.example" not in message.body and "testserver" not in message.body


@pytest.mark.django_db(transaction=True)  # the worker closes connections between tasks
def test_password_reset_sends_no_mail_in_the_request(client, responder, django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    with django_capture_on_commit_callbacks(execute=True):
        ask_for_reset(client, responder.email)
    assert mail.outbox == []
    assert DBTaskResult.objects.filter(task_path="cases.tasks.security.send_password_reset_task").count() == 1
    run_worker()
    assert len(mail.outbox) == 1


def test_password_reset_request_does_the_same_work_for_known_and_unknown_addresses(client, responder,
                                                                                    django_capture_on_commit_callbacks):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    queries = {}
    for label, email in (("known", responder.email), ("unknown", "nobody@irt.example")):
        with CaptureQueriesContext(connection) as captured, django_capture_on_commit_callbacks(execute=True):
            ask_for_reset(client, email)
        queries[label] = [q["sql"].replace(email, "EMAIL") for q in captured.captured_queries]
    assert len(queries["known"]) == len(queries["unknown"])
    assert not any('"cases_user"' in sql for sql in queries["known"])  # the worker looks the address up


@pytest.mark.django_db(transaction=True)  # the worker closes connections between tasks
def test_password_reset_is_throttled_per_email_without_saying_so(client, responder, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        responses = [ask_for_reset(client, responder.email) for _ in range(5)]
    assert {r["Location"] for r in responses} == {reverse("password_reset_done")}
    run_worker()
    assert len(mail.outbox) == 3
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.PASSWORD_RESET_THROTTLED).count() == 2


# -- sessions ----------------------------------------------------------------------------------


def test_idle_staff_session_ends_after_the_configured_minutes(client, manager, settings):
    settings.IRT_STAFF_IDLE_MINUTES = 30
    client.force_login(manager)
    assert client.get(reverse("cases:dashboard")).status_code == 200
    session = client.session
    session[sessions.LAST_SEEN_KEY] = int(time.time()) - 31 * 60
    session.save()
    response = client.get(reverse("cases:list"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert client.get(reverse("cases:dashboard")).status_code == 302
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.SESSION_EXPIRED, user=manager).exists()


def test_recent_staff_activity_keeps_the_session(client, manager):
    client.force_login(manager)
    session = client.session
    session[sessions.LAST_SEEN_KEY] = int(time.time()) - 29 * 60
    session.save()
    assert client.get(reverse("cases:dashboard")).status_code == 200
    assert client.session[sessions.LAST_SEEN_KEY] >= int(time.time()) - 5


def test_enabling_two_factor_ends_the_users_other_sessions_and_keeps_this_one(client, contoso_user):
    from django.test import Client

    other_browser = Client()
    other_browser.force_login(contoso_user)
    assert other_browser.get(reverse("portal:index")).status_code == 200
    sign_in_with_password(client, "customer-contoso")
    secret = re.search(rb'id="totp-secret">([A-Z2-7]+)<', client.get(SETUP).content).group(1).decode()
    key_before = client.session.session_key
    assert client.post(SETUP, {"otp_token": totp_now(secret)}).status_code == 200
    assert client.session.session_key != key_before
    assert client.get(reverse("portal:index")).status_code == 200
    response = other_browser.get(reverse("portal:index"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_signing_out_ends_every_session_of_the_user(client, manager):
    from django.test import Client

    other_browser = Client()
    client.force_login(manager)
    other_browser.force_login(manager)
    assert other_browser.get(reverse("cases:dashboard")).status_code == 200
    client.post(reverse("logout"))
    response = other_browser.get(reverse("cases:dashboard"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.LOGOUT, user=manager).exists()


def test_deactivating_a_user_in_admin_ends_their_sessions_and_is_recorded(client, admin, responder):
    from django.test import Client

    responder_browser = Client()
    responder_browser.force_login(responder)
    client.force_login(admin)
    url = reverse("admin:cases_user_change", args=[responder.pk])
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name not in ("password", "groups", "user_permissions", "is_active")}
    data.update({"date_joined_0": responder.date_joined.strftime("%Y-%m-%d"), "date_joined_1": responder.date_joined.strftime("%H:%M:%S"),
                 "last_login_0": "", "last_login_1": "", "groups": [], "organization": ""})
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    responder.refresh_from_db()
    assert not responder.is_active
    assert responder_browser.get(reverse("cases:dashboard")).status_code == 302
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.DEACTIVATED, user=responder, actor=admin).exists()
    changed = SecurityEvent.objects.get(kind=SecurityEvent.Kind.PERMISSIONS_CHANGED, user=responder)
    assert "Responders" in changed.detail and changed.actor == admin


def test_sign_in_and_failures_are_audited_with_the_address(client, contoso_user):
    sign_in_with_password(client, "customer-contoso", "wrong", REMOTE_ADDR="198.51.100.4")
    sign_in_with_password(client, "customer-contoso", REMOTE_ADDR="198.51.100.4")
    failed, login = SecurityEvent.objects.order_by("pk")
    assert (failed.kind, failed.user, failed.ip_address) == (SecurityEvent.Kind.LOGIN_FAILED, contoso_user, "198.51.100.4")
    assert (login.kind, login.user) == (SecurityEvent.Kind.LOGIN, contoso_user)


def test_security_events_are_listed_read_only_in_admin(client, admin):
    security_log.record_event(SecurityEvent.Kind.LOGIN_FAILED, username="mallory")
    client.force_login(admin)
    changelist = client.get(reverse("admin:cases_securityevent_changelist"))
    assert changelist.status_code == 200 and b"mallory" in changelist.content
    assert client.get(reverse("admin:cases_securityevent_add")).status_code == 403


def test_admin_reset_of_the_second_factor_ends_sessions(client, admin, manager):
    from django.test import Client

    manager_browser = Client()
    manager_browser.force_login(manager)
    client.force_login(admin)
    client.post(reverse("admin:cases_user_changelist"), {"action": "reset_second_factor", "_selected_action": [manager.pk]})
    assert not mfa.has_mfa(manager)
    assert manager_browser.get(reverse("cases:dashboard")).status_code == 302


# -- headers -----------------------------------------------------------------------------------


@pytest.mark.parametrize("url_name, args", [("admin:index", []), ("admin:cases_case_changelist", []),
                                            ("admin:cases_user_add", []), ("admin:cases_case_add", [])])
def test_admin_pages_get_the_strict_policy_and_have_no_inline_script_or_style(client, admin, url_name, args):
    client.force_login(admin)
    response = client.get(reverse(url_name, args=args))
    assert response.status_code in (200, 403)
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert "style-src 'self'" in response["Content-Security-Policy"]
    body = response.content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", body)
    assert 'style="' not in body and " onclick=" not in body and "javascript:" not in body


# -- demo data ---------------------------------------------------------------------------------


def test_seed_demo_enrols_staff_with_the_given_totp_secret(db):
    out = StringIO()
    call_command("seed_demo", password="demo-password-1234", totp_secret=TEST_TOTP_SECRET, stdout=out)
    assert TEST_TOTP_SECRET in out.getvalue()
    from cases.models import User

    for username in ("admin", "manager", "responder", "comms"):
        device = TOTPDevice.objects.get(user__username=username, confirmed=True)
        assert mfa.secret_base32(device) == TEST_TOTP_SECRET
    assert not TOTPDevice.objects.filter(user__username__startswith="customer-").exists()
    call_command("seed_demo", password="demo-password-1234", totp_secret=TEST_TOTP_SECRET, stdout=StringIO())
    assert TOTPDevice.objects.filter(user__in=User.objects.filter(username="manager")).count() == 1


def test_sessions_of_other_users_survive_a_sign_out(client, manager, responder):
    from django.test import Client

    responder_browser = Client()
    responder_browser.force_login(responder)
    client.force_login(manager)
    client.post(reverse("logout"))
    assert responder_browser.get(reverse("cases:dashboard")).status_code == 200
    assert SignedInSession.objects.filter(user=responder).exists() and not SignedInSession.objects.filter(user=manager).exists()


def test_an_overlong_username_is_refused_without_an_error(client, db):
    from axes.models import AccessAttempt

    response = sign_in_with_password(client, "x" * 5_000, "wrong")
    assert response.status_code == 200 and b"did not match" in response.content
    assert AccessAttempt.objects.get().username == "x" * 150
