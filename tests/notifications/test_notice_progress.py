"""The breach page's fan-out progress: delivered / pending / dead per channel, in one query."""

from django.template import Context, Template
from django.test import RequestFactory

from notifications.models import Delivery
from notifications.selectors import notice_progress
from notifications.services import delivery as service
from tests.notifications.conftest import publish_update

Status = Delivery.Status


def render(case, user):
    request = RequestFactory().get("/")
    request.user = user
    return Template("{% load notice_progress %}{% notice_progress case %}").render(Context({"case": case, "request": request}))


def test_progress_counts_each_channel_as_the_fan_out_runs(smtp_sink, breach_case, comms, manager, django_assert_num_queries):
    assert notice_progress(breach_case) == []  # nothing written before the first approved update
    publish_update(breach_case, comms=comms)
    [email] = notice_progress(breach_case)
    assert (email["channel"], email["pending"], email["delivered"], email["dead"], email["done_percent"]) == ("email", 2, 0, 0, 0)
    notices = Delivery.objects.filter(notification__case=breach_case, notification__kind="breach_notice", channel="email")
    first = notices.order_by("address").first()
    assert service.deliver(first.pk) == Status.DELIVERED
    notices.filter(status=Status.PENDING).update(status=Status.DEAD)
    with django_assert_num_queries(1):
        [email] = notice_progress(breach_case)
    assert (email["pending"], email["delivered"], email["dead"], email["done_percent"], email["total"]) == (0, 1, 1, 100, 2)
    html = render(breach_case, manager)
    assert 'data-status="delivered">1<' in html and f"?status=dead&amp;case={breach_case.reference}" in html


def test_progress_partial_is_empty_without_breach_notices(breach_case, responder):
    assert render(breach_case, responder).strip() == ""


def test_the_fragment_asks_to_be_refreshed_only_while_notices_are_pending(client, smtp_sink, breach_case, comms, manager):
    from django.urls import reverse

    publish_update(breach_case, comms=comms)
    client.force_login(manager)
    url = reverse("notifications:notice-progress", args=[breach_case.reference])
    pending = client.get(url)
    assert pending.status_code == 200 and pending["Cache-Control"].startswith("private")
    assert f'data-refresh-url="{url}"' in pending.content.decode()
    for notice in Delivery.objects.filter(notification__case=breach_case, notification__kind="breach_notice", channel="email"):
        service.deliver(notice.pk)
    settled = client.get(url).content.decode()
    assert "data-refresh-url" not in settled and 'data-status="delivered">2<' in settled
