"""The triage queue, a group's page, its actions, observables, and the alert panel of a case."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import AlertGroup, Case, OrganizationTenant
from cases.services.cases import add_member
from cases.services.intake import ingest_alert
from cases.services.triage import promote_group
from tests.cases.alerts.samples import alert_payload
from tests.factories import case_in_stage


def bulk_groups(count: int):
    now = timezone.now()
    severities = ["low", "critical", "medium", "high"]
    ranks = {"critical": 0, "high": 1, "medium": 2, "low": 3}
    AlertGroup.objects.bulk_create(
        AlertGroup(title=f"Group {i}", severity=severities[i % 4], severity_rank=ranks[severities[i % 4]],
                   first_seen_at=now - timedelta(minutes=i), last_seen_at=now, alert_count=1)
        for i in range(count)
    )


@pytest.mark.parametrize("count", [10, 200])
def test_queue_runs_the_same_queries_whatever_the_number_of_groups(client, responder, count, django_assert_num_queries):
    bulk_groups(count)
    client.force_login(responder)
    client.get(reverse("alerts:queue"))  # warm the session and the second-factor device
    # 7: the inbox badge's count is kept in the cache since the warming request (issue 18).
    with django_assert_num_queries(4):  # 5 before the session and the user were one query
        response = client.get(reverse("alerts:queue"))
    assert response.status_code == 200


def test_queue_lists_waiting_groups_most_severe_then_oldest(client, responder):
    for ref, severity, at in [("a", "low", "2026-03-02T07:00:00Z"), ("b", "critical", "2026-03-02T09:00:00Z"),
                              ("c", "critical", "2026-03-02T08:00:00Z"), ("d", "high", "2026-03-02T06:00:00Z")]:
        ingest_alert(payload=alert_payload(source_ref=ref, title=f"Alert {ref}", severity=severity, observed_at=at,
                                           observables=[]), by=responder)
    handled = ingest_alert(payload=alert_payload(title="Alert handled", observables=[]), by=responder)[0].group
    promote_group(group=handled, by=responder)
    client.force_login(responder)
    page = client.get(reverse("alerts:queue")).content.decode()
    positions = [page.index(f"Alert {ref}") for ref in "cbda"]
    assert positions == sorted(positions)
    assert "Alert handled" not in page


def test_group_page_shows_alerts_observables_and_candidate_customers(client, responder, contoso):
    OrganizationTenant.objects.create(organization=contoso, tenant_id="210987654321")
    alert, _ = ingest_alert(payload=alert_payload(title="Root key used", resources=["arn:aws:iam::210987654321:root"]), by=responder)
    client.force_login(responder)
    page = client.get(alert.group.get_absolute_url()).content.decode()
    assert "Root key used" in page and "203.0.113.10" in page and "Contoso" in page
    assert "Promote to a new case" in page


def test_comms_reads_a_group_but_is_offered_no_triage(client, responder, comms):
    alert, _ = ingest_alert(payload=alert_payload(), by=responder)
    client.force_login(comms)
    page = client.get(alert.group.get_absolute_url()).content.decode()
    assert "Promote to a new case" not in page
    assert client.post(reverse("alerts:promote", args=[alert.group_id])).status_code == 403


def test_promote_from_the_page_lands_on_the_new_case_showing_the_alerts(client, responder):
    alert, _ = ingest_alert(payload=alert_payload(title="Token theft from CI runner"), by=responder)
    client.force_login(responder)
    response = client.post(reverse("alerts:promote", args=[alert.group_id]), {"title": ""})
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == case.get_absolute_url()
    page = client.get(case.get_absolute_url()).content.decode()
    assert "Alerts and observables" in page and "Token theft from CI runner" in page and "203.0.113.10" in page


def test_promote_twice_shows_a_message_and_opens_one_case(client, responder):
    alert, _ = ingest_alert(payload=alert_payload(), by=responder)
    client.force_login(responder)
    client.post(reverse("alerts:promote", args=[alert.group_id]))
    response = client.post(reverse("alerts:promote", args=[alert.group_id]), follow=True)
    assert "already handled" in response.content.decode()
    assert Case.objects.count() == 1


def test_attach_to_an_unknown_case_is_a_404_and_changes_nothing(client, responder):
    alert, _ = ingest_alert(payload=alert_payload(), by=responder)
    client.force_login(responder)
    response = client.post(reverse("alerts:attach", args=[alert.group_id]), {"case": "IRT-1999-9999"})
    assert response.status_code == 404
    assert AlertGroup.objects.get().status == AlertGroup.Status.NEW


def test_dismiss_with_bad_input_changes_nothing(client, responder):
    alert, _ = ingest_alert(payload=alert_payload(), by=responder)
    client.force_login(responder)
    for data in ({}, {"reason": "nope", "note": "x"}, {"reason": "benign"}):
        response = client.post(reverse("alerts:dismiss", args=[alert.group_id]), data)
        assert response.status_code == 302 and response["Location"] == alert.group.get_absolute_url()
    assert AlertGroup.objects.get().status == AlertGroup.Status.NEW


def test_group_of_a_restricted_case_is_a_404_for_those_who_may_not_know_the_case(client, responder, manager, other_responder):
    alert, _ = ingest_alert(payload=alert_payload(), by=responder)
    promote_group(group=alert.group, by=responder, restricted=True)
    for user, status in ((manager, 404), (other_responder, 404), (responder, 200)):
        client.force_login(user)
        assert client.get(alert.group.get_absolute_url()).status_code == status, user


def test_seen_in_other_cases_lists_only_cases_the_viewer_may_see(client, responder, manager, second_manager):
    shared = [{"kind": "domain", "value": "c2.example"}]
    visible_case = promote_group(group=ingest_alert(payload=alert_payload(title="first", observables=shared), by=manager)[0].group, by=manager)
    secret_case = promote_group(group=ingest_alert(payload=alert_payload(title="second", observables=shared), by=second_manager,
                                                   now=timezone.now() - timedelta(days=1))[0].group,
                                by=second_manager, restricted=True)
    third = promote_group(group=ingest_alert(payload=alert_payload(title="third", observables=shared), by=manager)[0].group, by=manager)
    client.force_login(manager)
    page = client.get(third.get_absolute_url()).content.decode()
    assert visible_case.reference in page and secret_case.reference not in page
    observable = third.observables.get()
    page = client.get(observable.get_absolute_url()).content.decode()
    assert visible_case.reference in page and secret_case.reference not in page and "second" not in page
    client.force_login(second_manager)
    assert secret_case.reference in client.get(observable.get_absolute_url()).content.decode()


def test_customers_never_reach_alert_pages(client, responder, contoso_user):
    alert, _ = ingest_alert(payload=alert_payload(), by=responder)
    observable = alert.observables.get()
    client.force_login(contoso_user)
    for url in (reverse("alerts:queue"), alert.group.get_absolute_url(), observable.get_absolute_url()):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == reverse("portal:index")


def test_case_page_without_alerts_has_no_alert_panel(client, manager):
    case = case_in_stage(Case.Status.DIAGNOSING, manager=manager)
    client.force_login(manager)
    assert "Alerts and observables" not in client.get(case.get_absolute_url()).content.decode()


def test_case_page_shows_candidates_and_which_are_already_on_the_case(client, manager, contoso, fabrikam):
    OrganizationTenant.objects.create(organization=contoso, tenant_id="sub-contoso")
    OrganizationTenant.objects.create(organization=fabrikam, tenant_id="sub-fabrikam")
    alert, _ = ingest_alert(payload=alert_payload(resources=["/subscriptions/SUB-CONTOSO/x", "sub-fabrikam"]), by=manager)
    case = promote_group(group=alert.group, by=manager)
    from tests.factories import AffectedCustomerFactory

    AffectedCustomerFactory(case=case, by=manager, organization=contoso)
    client.force_login(manager)
    page = client.get(case.get_absolute_url()).content.decode()
    assert "Candidate affected customers" in page
    panel = page[page.index("Candidate affected customers"):]
    assert "Contoso <span class=\"badge note\">on the case</span>" in panel and "Fabrikam" in panel


def test_the_queue_says_how_many_alerts_wait_to_be_grouped(client, responder, settings):
    from cases.models import User
    from cases.services.intake import correlate_waiting, ingest_alert
    from tests.cases.alerts.samples import alert_payload

    settings.IRT_ALERT_CORRELATION = "deferred"
    connector = User.objects.filter(is_superuser=True).first() or responder
    ingest_alert(payload=alert_payload(source_ref="W-1"), by=connector)
    ingest_alert(payload=alert_payload(source_ref="W-2"), by=connector)
    client.force_login(responder)
    assert "2 alerts received but not yet grouped" in client.get(reverse("alerts:queue")).content.decode()
    correlate_waiting()
    assert "not yet grouped" not in client.get(reverse("alerts:queue")).content.decode()
