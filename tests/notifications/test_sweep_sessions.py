"""The sweep loop deletes expired sessions: every sign-in adds a row and nothing else would remove it."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from cases.models.sessions import SignedInSession

pytestmark = pytest.mark.django_db


def sweep_loop_once(monkeypatch):
    from notifications.management.commands import notify_sweep

    monkeypatch.setattr(notify_sweep, "run_forever", lambda step, **kwargs: step())
    out = StringIO()
    call_command("notify_sweep", loop=1, stdout=out)
    return out.getvalue()


def test_the_sweep_loop_deletes_expired_sessions_and_keeps_live_ones(client, manager, responder, monkeypatch):
    client.force_login(manager)
    live_key = client.session.session_key
    now = timezone.now()
    SignedInSession.objects.create(session_key="expired-a" + "x" * 31, session_data="", expire_date=now - timedelta(seconds=1),
                                   user=responder)
    SignedInSession.objects.create(session_key="expired-b" + "x" * 31, session_data="", expire_date=now - timedelta(days=30))
    assert SignedInSession.objects.count() == 3

    assert "Deleted expired sessions." in sweep_loop_once(monkeypatch)

    assert list(SignedInSession.objects.values_list("session_key", flat=True)) == [live_key]
    # The signed-in user's session still works.
    response = client.get("/cases/")
    assert response.status_code == 200 and response.wsgi_request.user == manager


def test_a_one_shot_sweep_leaves_sessions_alone(manager):
    SignedInSession.objects.create(session_key="expired-c" + "x" * 31, session_data="", expire_date=timezone.now() - timedelta(days=1))
    call_command("notify_sweep", stdout=StringIO())
    assert SignedInSession.objects.count() == 1
