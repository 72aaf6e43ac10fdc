"""The inbox badge is kept in the cache per user, and every change to what it counts shows on the next request.

Each request after a change is served through a new handle on the cache, as another web process
would be; on Redis (``redis_settings``) that is a connection of its own to the shared cache.
"""

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases.models import Case
from cases.services import cases as case_services
from cases.services import communications, lifecycle
from notifications.models import Delivery, Notification
from notifications.services import outbox
from tests.factories import case_in_stage
from tests.irt.test_redis_cache import redis_settings  # noqa: F401 - the fixture
from tests.notifications.conftest import publish_update
from tests.notifications.test_inbox_settles import draft

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["local", "redis"])
def shared_cache(request):
    """The test settings' process-local cache, then Redis shared as between web processes."""
    if request.param == "redis":
        request.getfixturevalue("redis_settings")
    return request.param


def badge(client, path):
    """Return the unread count the page's navigation shows, from another process's handle on the cache."""
    del caches["default"]
    page = client.get(path).content.decode()
    marker = 'class="badge" aria-label="'
    return int(page.split(marker, 1)[1].split(" ", 1)[0]) if marker in page else 0


def counts_deliveries(client, path) -> bool:
    with CaptureQueriesContext(connection) as captured:
        client.get(path)
    return any("notifications_delivery" in query["sql"] for query in captured.captured_queries)


def test_a_customer_badge_follows_writing_reading_and_settling_their_items(shared_cache, client, breach_case, comms, contoso_user):
    client.force_login(contoso_user)
    portal = reverse("portal:index")
    assert badge(client, portal) == 0
    assert not counts_deliveries(client, portal), "the count is kept, not read again"

    publish_update(breach_case, comms=comms)
    assert badge(client, portal) == 1, "a new inbox item (the breach notice)"

    client.post(reverse("notifications:read-all"))
    assert badge(client, portal) == 0, "read"

    publish_update(breach_case, comms=comms, title="The policy engine is rolled back")
    assert badge(client, portal) == 1, "another new item (the update)"
    assert not counts_deliveries(client, portal)

    client.post(reverse("portal:acknowledge", args=[breach_case.reference]))
    assert badge(client, portal) == 0, "acknowledging the incident settles its notices"


def test_a_staff_badge_follows_one_item_read_and_a_case_finishing(shared_cache, client, manager, responder):
    client.force_login(responder)
    dashboard = reverse("cases:dashboard")
    case = case_in_stage(Case.Status.ASSESSING, manager=manager)
    case_services.add_member(case=case, by=manager, user=responder)
    outbox.notify_staff(kind=Notification.Kind.DEADLINE_REMINDER, users=[responder], title="Check the clocks")
    assert badge(client, dashboard) == 2

    entry = Delivery.objects.get(user=responder, channel=Delivery.Channel.INBOX, notification__kind=Notification.Kind.DEADLINE_REMINDER)
    client.post(reverse("notifications:read", args=[entry.pk]))
    assert badge(client, dashboard) == 1, "one item read"

    lifecycle.dismiss_case(case=case, by=manager, reason=Case.DismissalReason.FALSE_POSITIVE, note="Benign.")
    assert badge(client, dashboard) == 0, "everything about a finished case is settled"


def test_an_approval_request_leaves_the_badge_once_the_draft_is_approved(shared_cache, client, manager, comms):
    client.force_login(comms)
    dashboard = reverse("cases:dashboard")
    case = case_in_stage(Case.Status.DIAGNOSING, manager=manager)
    update = draft(case, manager)
    assert badge(client, dashboard) == 1
    communications.approve_update(update=update, by=comms)
    assert badge(client, dashboard) == 0
