"""Portal gaps of issue 16 (item 7, in part): unacknowledged incidents marked on the list, status words explained."""

import pytest
from django.urls import reverse

from cases.models import Case
from cases.services import communications
from tests.factories import AffectedCustomerFactory, case_in_stage


def published_incident(manager, comms, organization, title):
    case = case_in_stage(Case.Status.STABILIZING, manager=manager)
    AffectedCustomerFactory(case=case, by=manager, organization=organization)
    update = communications.draft_update(case=case, by=manager, public_title=title, what_happened="Listings were readable.")
    communications.approve_update(update=update, by=comms)
    return case


# Session and user, the first page's rows with one more (one prepared query: cases.selectors.portal), the totals (incidents
# and unacknowledged, one query) and the page's latest updates. Kept in the cache: the organisation's name
# (cases.selectors.portal) and the inbox badge's count (notifications.services.inbox). Issue 18: 6 before.
INDEX_QUERIES = 4  # 5 before the session and the user were one query
# One page of incidents (most organisations): session, user and the rows read with one more; the page itself is kept per
# reader and rows (cases.views.kept_pages), so nothing else is read. Issue 18: 5 before.
INDEX_QUERIES_ONE_PAGE = 2  # 3 before the session and the user were one query


def bulk_incidents(count, *, organization, by, confirmed_by):
    """Create ``count`` incidents the organisation reads, in a few statements (confirmed, granted, one published update each)."""
    from datetime import timedelta

    from django.contrib.auth.models import Permission
    from django.utils import timezone

    from cases.access.grants import organization_group
    from cases.models import AffectedCustomer, CaseGroupObjectPermission, IncidentUpdate

    now = timezone.now()
    cases = Case.objects.bulk_create(Case(reference=f"IRT-1998-{i:05d}", title=f"Bulk {i}", created_by=by, owner=by,
                                          status=Case.Status.STABILIZING, detected_at=now) for i in range(count))
    AffectedCustomer.objects.bulk_create(AffectedCustomer(case=case, organization=organization, data_disclosed=True, added_by=by,
                                                          confirmed_by=confirmed_by, confirmed_at=now) for case in cases)
    permission = Permission.objects.get(content_type__app_label="cases", codename="view_incident")
    group = organization_group(organization)
    CaseGroupObjectPermission.objects.bulk_create(CaseGroupObjectPermission(group=group, permission=permission, content_object=case)
                                                  for case in cases)
    IncidentUpdate.objects.bulk_create(IncidentUpdate(case=case, public_title=f"Incident {i}", what_happened="Reads.", author=by,
                                                      published_at=now - timedelta(minutes=i)) for i, case in enumerate(cases))
    return cases


@pytest.mark.parametrize("count", [10, 25, 26, 150])
def test_the_list_is_paginated_with_a_query_count_that_does_not_grow(client, manager, comms, contoso, contoso_user, count,
                                                                      django_assert_num_queries):
    bulk_incidents(count, organization=contoso, by=manager, confirmed_by=comms)
    client.force_login(contoso_user)
    client.get(reverse("portal:index"))
    with django_assert_num_queries(INDEX_QUERIES if count > 25 else INDEX_QUERIES_ONE_PAGE):
        page = client.get(reverse("portal:index")).content.decode()
    assert page.count("<tr>") - 1 == min(count, 25)
    assert f"{count} incidents you have not acknowledged yet" in page
    assert ("Older →" in page) is (count > 25)
    assert "Incident 0<" in page  # newest first


def test_later_pages_list_the_older_incidents(client, manager, comms, contoso, contoso_user):
    bulk_incidents(30, organization=contoso, by=manager, confirmed_by=comms)
    client.force_login(contoso_user)
    page = client.get(reverse("portal:index"), {"page": 2}).content.decode()
    assert "Page 2 of 2" in page and "Incident 29<" in page and "Incident 0<" not in page
    assert client.get(reverse("portal:index"), {"page": "not-a-number"}).status_code == 200


def test_list_marks_the_incidents_the_reader_has_not_acknowledged(client, manager, comms, contoso, contoso_user,
                                                                  django_assert_num_queries):
    read = published_incident(manager, comms, contoso, "Read and acknowledged")
    published_incident(manager, comms, contoso, "Still to acknowledge")
    communications.acknowledge(case=read, user=contoso_user)
    client.force_login(contoso_user)
    client.get(reverse("portal:index"))  # warm the session and the caches a first request fills
    with django_assert_num_queries(INDEX_QUERIES_ONE_PAGE):
        page = client.get(reverse("portal:index")).content.decode()
    assert "1 incident you have not acknowledged yet" in page
    rows = page.split("<tbody>")[1].split("</tr>")
    [acknowledged] = [row for row in rows if "Read and acknowledged" in row]
    [waiting] = [row for row in rows if "Still to acknowledge" in row]
    assert "Not yet" in waiting and "Not yet" not in acknowledged


def test_incident_page_explains_every_status_word(client, manager, comms, contoso, contoso_user):
    case = published_incident(manager, comms, contoso, "Bucket listing exposure")
    client.force_login(contoso_user)
    page = client.get(reverse("portal:incident", args=[case.reference])).content.decode()
    assert "What the status words mean" in page
    for word in ("Investigating", "Identified", "Monitoring", "Resolved"):
        assert f">{word}</span></dt><dd>" in page
