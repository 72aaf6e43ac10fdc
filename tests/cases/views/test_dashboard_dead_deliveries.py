"""The dashboard's dead deliveries, compiled once per process and role (issue 18): the same rows as the ORM's, for every viewer."""

import pytest
from django.urls import reverse

from cases.access.prepared import PreparedQuery
from cases.selectors import dashboard as dashboard_selectors
from notifications import selectors
from notifications.models import Delivery, Notification
from tests.factories import CaseFactory


def _dead(case, address, channel=Delivery.Channel.EMAIL, error="550 mailbox unavailable"):
    notification = Notification.objects.create(kind=Notification.Kind.BREACH_NOTICE, case=case,
                                               title=f"Notice for {case.reference if case else 'nobody'}")
    return Delivery.objects.create(notification=notification, channel=channel, status=Delivery.Status.DEAD,
                                   address=address, last_error=error)


def _orm_rows(user, limit):
    """Return the rows as the dashboard read them before issue 18: the ORM's deliveries, one ``reverse`` per row."""
    if not selectors.can_see_deliveries(user):
        return []
    return [
        {"title": delivery.notification.title, "recipient": selectors._recipient(delivery.channel, delivery.address),
         "case": delivery.notification.case.reference if delivery.notification.case_id else "",
         "error": delivery.last_error, "at": delivery.created_at, "url": reverse("notifications:delivery", args=[delivery.pk])}
        for delivery in selectors.deliveries(user, status=Delivery.Status.DEAD)[:limit]
    ]


@pytest.fixture
def dead(manager, responder):
    visible = CaseFactory(by=manager, owner=manager)
    restricted = CaseFactory(by=manager, owner=manager, restricted=True)
    delivered = _dead(visible, "ciso@contoso.example")
    Delivery.objects.filter(pk=delivered.pk).update(status=Delivery.Status.DELIVERED)  # never a dead delivery's row
    return [
        _dead(visible, "soc@contoso.example"),
        _dead(restricted, "https://hooks.fabrikam.example/secret-token?x=1", channel=Delivery.Channel.WEBHOOK),
        _dead(None, "ops@provider.example", error=""),
    ]


def test_every_viewer_reads_the_rows_the_orm_reads(dead, personas):
    for name, user in personas.items():
        for limit in (1, 20):
            assert selectors.dashboard_dead_deliveries(user, limit) == _orm_rows(user, limit), (name, limit)


def test_a_webhook_shows_its_host_only_and_a_restricted_case_only_to_its_members(dead, manager, second_manager):
    shown = {row["recipient"] for row in selectors.dashboard_dead_deliveries(manager, 20)}
    assert shown == {"soc@contoso.example", "hooks.fabrikam.example", "ops@provider.example"}
    assert "hooks.fabrikam.example" not in {row["recipient"] for row in selectors.dashboard_dead_deliveries(second_manager, 20)}


def test_each_row_links_its_own_delivery(dead, manager):
    urls = {row["url"] for row in selectors.dashboard_dead_deliveries(manager, 20)}
    assert urls == {reverse("notifications:delivery", args=[delivery.pk]) for delivery in dead}


def test_the_query_is_compiled_once_per_role_and_limit(dead, manager, second_manager, monkeypatch):
    compiled = []
    compile_ = PreparedQuery._compile
    monkeypatch.setattr(PreparedQuery, "_compile", lambda self, *args: compiled.append(self) or compile_(self, *args))
    monkeypatch.setattr(dashboard_selectors, "_prepared", {})
    selectors.dashboard_dead_deliveries(manager, 20)
    assert len(compiled) == 2  # with both placeholder sets
    compiled.clear()
    selectors.dashboard_dead_deliveries(second_manager, 20)  # the same role
    selectors.dashboard_dead_deliveries(manager, 20)
    assert compiled == []
    selectors.dashboard_dead_deliveries(manager, 5)  # another limit is another query
    assert len(compiled) == 2
