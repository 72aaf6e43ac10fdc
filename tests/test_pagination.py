"""Every paged list links to its neighbours the same way and keeps its filters across pages."""

import re

import pytest
from django.urls import reverse

from notifications.models import Delivery, Notification
from notifications.services.outbox import create_notification
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


def page_links(html: str) -> dict[str, str]:
    nav = re.search(r'<nav class="pagination" aria-label="Pages">(.*?)</nav>', html, re.S).group(1)
    return {label: href for href, label in re.findall(r'<a href="([^"]*)">([^<]*)</a>', nav)} | {
        "position": re.search(r"<span>(.*?)</span>", nav).group(1)}


def test_case_list_pages_keep_the_filters(client, manager, monkeypatch):
    monkeypatch.setattr("cases.views.case_list.PAGE_SIZE", 1)
    for title in ("Phishing one", "Phishing two", "Phishing three"):
        CaseFactory(by=manager, owner=manager, title=title)
    client.force_login(manager)
    html = client.get(reverse("cases:list"), {"q": "Phishing", "owner": "me", "page": "2"}).content.decode()
    assert page_links(html) == {
        "← Newer": "?q=Phishing&amp;owner=me&amp;page=1",
        "Older →": "?q=Phishing&amp;owner=me&amp;page=3",
        "position": "Page 2 of 3",
    }


def test_delivery_list_pages_keep_the_status_filter(client, manager, monkeypatch):
    monkeypatch.setattr("notifications.views.PAGE_SIZE", 1)
    case = CaseFactory(by=manager, owner=manager)
    for n in range(2):
        create_notification(kind=Notification.Kind.BREACH_NOTICE, case=case, title=f"Notice {n}",
                            deliveries=[Delivery(channel=Delivery.Channel.EMAIL, address=f"ciso{n}@contoso.example")])
    client.force_login(manager)
    html = client.get(reverse("notifications:deliveries"), {"status": "pending"}).content.decode()
    assert page_links(html) == {"Older →": "?status=pending&amp;page=2", "position": "Page 1 of 2"}
    html = client.get(reverse("notifications:deliveries"), {"page": "2"}).content.decode()
    assert page_links(html) == {"← Newer": "?page=1", "position": "Page 2 of 2"}


def test_inbox_pages_link_by_page_number_alone(client, responder, monkeypatch):
    monkeypatch.setattr("notifications.views.PAGE_SIZE", 1)
    for n in range(3):
        create_notification(kind=Notification.Kind.CASE_ASSIGNED, title=f"Assigned {n}",
                            deliveries=[Delivery(channel=Delivery.Channel.INBOX, user=responder)])
    client.force_login(responder)
    html = client.get(reverse("notifications:inbox"), {"page": "2"}).content.decode()
    assert page_links(html) == {"← Newer": "?page=1", "Older →": "?page=3", "position": "Page 2 of 3"}
