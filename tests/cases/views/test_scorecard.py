"""The public promise scorecard: per-quarter figures, small counts suppressed, cacheable with no cookie."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import AffectedCustomer, Case, Deadline, RepairItem
from cases.selectors.scorecard import scorecard
from tests.factories import AffectedCustomerFactory, OrganizationFactory, case_in_stage


def notified_breach(manager, *, organizations: int, hours_to_notice: float, deadline_hours: float = 72):
    """A case whose breach was declared a week ago, with ``organizations`` notified ``hours_to_notice`` later."""
    declared = timezone.now() - timedelta(days=7)
    case = case_in_stage(Case.Status.STABILIZING, manager=manager)
    Case.objects.filter(pk=case.pk).update(breach_declared_at=declared)
    Deadline.objects.create(case=case, kind=Deadline.Kind.CUSTOMER_NOTICE, started_at=declared,
                            due_at=declared + timedelta(hours=deadline_hours))
    for _ in range(organizations):
        row = AffectedCustomerFactory(case=case, by=manager, organization=OrganizationFactory(), data_lost=True)
        AffectedCustomer.objects.filter(pk=row.pk).update(notified_at=declared + timedelta(hours=hours_to_notice))
    return case


def test_a_quarter_with_five_notices_shows_its_share_and_median(manager):
    notified_breach(manager, organizations=4, hours_to_notice=10)
    notified_breach(manager, organizations=1, hours_to_notice=80)
    [quarter] = scorecard()
    assert quarter.notices.count == 5 and not quarter.notices.suppressed
    assert quarter.notices.value == 80.0
    assert quarter.hours_to_notice.value == 10.0


def test_fewer_than_five_notices_are_suppressed_with_their_share_and_median(client, manager):
    notified_breach(manager, organizations=2, hours_to_notice=10)
    [quarter] = scorecard()
    assert quarter.notices.suppressed and quarter.notices.value is None and quarter.hours_to_notice.value is None
    page = client.get(reverse("lessons:scorecard")).content.decode()
    assert "fewer than 5" in page
    assert ">2<" not in page
    feed = client.get(reverse("lessons:scorecard-feed")).content.decode()
    assert "fewer than 5 breach notices" in feed


def test_the_threshold_is_a_setting(settings, manager):
    settings.IRT_SCORECARD_MIN_COUNT = 2
    notified_breach(manager, organizations=2, hours_to_notice=10)
    [quarter] = scorecard()
    assert quarter.notices.count == 2 and quarter.notices.value == 100.0


def test_repair_items_completed_by_their_date(manager):
    case = case_in_stage(Case.Status.STABILIZING, manager=manager)
    today = timezone.localdate()
    for late in (False, False, False, False, True):
        RepairItem.objects.create(case=case, title="Fix", status="done", estimated_completion=today - timedelta(days=1 if late else 0),
                                  completed_on=today)
    [quarter] = scorecard()
    assert quarter.repairs.count == 5 and quarter.repairs.value == 80.0


@pytest.mark.parametrize("url_name", ["lessons:scorecard", "lessons:scorecard-feed"])
def test_scorecard_is_public_cacheable_and_sets_no_cookie(client, manager, url_name):
    notified_breach(manager, organizations=5, hours_to_notice=10)
    client.force_login(manager)  # a signed-in reader gets the same public page
    response = client.get(reverse(url_name))
    assert response.status_code == 200
    assert "public" in response["Cache-Control"] and "max-age" in response["Cache-Control"]
    assert not response.cookies
    assert "Cookie" not in response.get("Vary", "")
    assert response.has_header("ETag")
    assert client.get(reverse(url_name), HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
