"""The dashboard is kept per reader and generation of its queues' data, and a change shows on the next request.

``cases/views/dashboard.py`` keeps the rendered page; any write to the rows the queues are read from
draws a new generation (``cases/receivers/dashboard.py``; the services' bulk updates call
``forget_queue_data``). Each change below goes through the code production runs and must show at once.
"""

import re
from datetime import timedelta

import pytest
import time_machine
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from cases.models import Case
from cases.services import notices
from cases.services.cases import add_member, assign_owner
from cases.services.intake import ingest_alert
from cases.views import dashboard as view
from notifications.models import Delivery
from notifications.services import delivery as delivery_service
from tests.cases.alerts.samples import alert_payload
from tests.factories import AffectedCustomerFactory, CaseFactory, DeadlineFactory, TaskFactory, case_in_stage

pytestmark = pytest.mark.django_db
DASHBOARD = reverse("cases:dashboard")


def without_token(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


def page(client) -> str:
    response = client.get(DASHBOARD)
    assert response.status_code == 200
    return response.content.decode()


def kept(client) -> str:
    """Read the page twice: the second answer is the kept copy (no template rendered)."""
    page(client)
    response = client.get(DASHBOARD)
    assert response.context is None, "the second read was rendered again, not kept"
    return response.content.decode()


def test_the_kept_copy_is_the_rendered_page(client, manager, responder):
    CaseFactory(by=responder, severity="high", title="Unowned and hot")
    client.force_login(manager)
    rendered = page(client)
    assert without_token(kept(client)) == without_token(rendered)  # each answer masks the CSRF token anew
    assert "Unowned and hot" in rendered


def test_someone_signing_in_keeps_the_copy(client, manager, responder):
    """A sign-in writes a session row (``SignedInSession``, in ``cases``) and stamps ``last_login``: nothing shown."""
    from django.test import Client

    client.force_login(manager)
    kept(client)
    Client().force_login(responder)
    assert client.get(DASHBOARD).context is None


def test_an_owner_assigned_leaves_the_unowned_queue_at_once(client, manager, responder):
    case = CaseFactory(by=responder, title="Whose is this")
    client.force_login(manager)
    assert "Whose is this" in kept(client)
    assign_owner(case=case, by=manager, owner=responder)
    assert "Open cases nobody owns (0)" in page(client)


def test_a_new_case_and_a_new_alert_group_show_at_once(client, manager, responder):
    client.force_login(manager)
    kept(client)
    CaseFactory(by=responder, title="Fresh from the phone")
    ingest_alert(payload=alert_payload(title="Impossible travel"), by=responder)
    html = page(client)
    assert "Fresh from the phone" in html and "Impossible travel" in html


def test_a_membership_shows_in_my_cases_at_once(client, manager, other_responder):
    case = CaseFactory(by=manager, owner=manager, title="Now yours too")
    client.force_login(other_responder)
    assert "Now yours too" not in kept(client)
    add_member(case=case, by=manager, user=other_responder)
    assert "Now yours too" in page(client)


def test_a_notice_reached_by_the_service_leaves_the_late_notices_at_once(client, manager):
    case = case_in_stage(Case.Status.DIAGNOSING, manager=manager)
    Case.objects.filter(pk=case.pk).update(breach_declared_at=timezone.now() - timedelta(hours=3))
    late = AffectedCustomerFactory(case=case, by=manager)
    DeadlineFactory(case=case, due_at=timezone.now() - timedelta(hours=2))
    client.force_login(manager)
    assert "Late breach notices (1)" in kept(client)
    with transaction.atomic():  # as the delivery worker calls it: a bulk update of the rows, last in its transaction
        assert notices.record_customers_notified(case=case, notices={late.organization_id: "email"})
    assert "Late breach notices (1)" not in page(client)


def test_a_delivery_given_up_shows_among_dead_deliveries_at_once(client, manager, monkeypatch):
    case = case_in_stage(Case.Status.DIAGNOSING, manager=manager)
    affected = AffectedCustomerFactory(case=case, by=manager)
    from tests.cases.views.test_dashboard import _dead_delivery

    delivery = _dead_delivery(case)
    Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.PENDING)
    client.force_login(manager)
    kept(client)
    delivery_service._give_up(delivery, "550 mailbox unavailable", now=timezone.now(), log_attempt=False)
    assert "550 mailbox unavailable" in page(client)
    assert affected  # the organisation the notice was for


def test_readers_never_share_a_copy(client, manager, other_responder):
    secret = CaseFactory(by=manager, restricted=True, title="Insider at the data centre")
    client.force_login(manager)
    assert "Insider at the data centre" in kept(client)
    client.force_login(other_responder)
    assert "Insider at the data centre" not in page(client)
    assert secret.restricted


def test_ages_and_the_heading_follow_the_clock_on_a_kept_copy(client, manager, responder):
    start = timezone.now().replace(second=50, microsecond=0)
    case = CaseFactory(by=responder, title="Ageing")
    Case.objects.filter(pk=case.pk).update(detected_at=start - timedelta(minutes=59, seconds=55))
    client.force_login(manager)
    with time_machine.travel(start, tick=False):
        assert "59\xa0minutes" in kept(client)
    with time_machine.travel(start + timedelta(seconds=9), tick=False):  # within the kept copy's bound
        response = client.get(DASHBOARD)
        assert response.context is None  # still the kept copy
        html = response.content.decode()
        assert "1\xa0hour ago" in html
        assert timezone.localtime(start + timedelta(seconds=9)).strftime("%H:%M") in html


def test_a_clock_falling_due_ends_the_kept_copy(client, manager):
    case = case_in_stage(Case.Status.DIAGNOSING, manager=manager)
    AffectedCustomerFactory(case=case, by=manager)
    start = timezone.now()
    DeadlineFactory(case=case, due_at=start + timedelta(seconds=5))
    client.force_login(manager)
    with time_machine.travel(start, tick=False):
        assert "Late breach notices" not in kept(client)
    with time_machine.travel(start + timedelta(seconds=6), tick=False):
        response = client.get(DASHBOARD)
        assert response.context is not None  # rendered again: the clock fell due
        assert "Late breach notices (1)" in response.content.decode()


def test_a_task_coming_within_the_day_ends_the_kept_copy(client, manager, responder):
    case = case_in_stage(Case.Status.DIAGNOSING, manager=manager)
    start = timezone.now()
    add_member(case=case, by=manager, user=responder)
    TaskFactory(case=case, assignee=responder, title="Rotate the keys", due_at=start + timedelta(hours=24, seconds=5))
    client.force_login(responder)
    with time_machine.travel(start, tick=False):
        assert "Rotate the keys" not in kept(client)
    with time_machine.travel(start + timedelta(seconds=6), tick=False):  # before the kept copy's bound
        response = client.get(DASHBOARD)
        assert response.context is not None  # rendered again: the task came within the day
        assert "Rotate the keys" in response.content.decode()


def test_a_change_no_signal_announced_shows_within_the_bound(client, manager, responder):
    case = CaseFactory(by=responder, title="Quietly dismissed")
    client.force_login(manager)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert "Quietly dismissed" in kept(client)
    Case.objects.filter(pk=case.pk).update(status=Case.Status.DISMISSED)  # a bulk update sends no signal
    with time_machine.travel(start + view.KEPT_AT_MOST, tick=False):
        assert "Quietly dismissed" not in page(client)
