"""List, detail and dashboard pages run the same exact number of queries whatever the data size.

The counts are exact, not ceilings: one more query per page is a change to look at, and the
same count at both data sizes is what shows nothing runs once per row.
"""

import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from cases.models import Case, CaseUserObjectPermission, Task, TimelineEvent
from cases.selectors.cases import OPEN_TASK_WINDOW, TIMELINE_WINDOW
from cases.services.timeline import append_events, lock_case
from tests.factories import AffectedCustomerFactory, OrganizationFactory, case_in_stage

# A manager (reads all) also gets the bulk-action form and its people picker; a responder is a member of every case.
LIST_QUERIES = {"manager": 5, "responder": 4}  # the page's rows, sorted, in one query (cases.selectors.cases.case_list_page)
# Issue 18: the list is kept per reader and version of what it shows (cases.views.case_list). Rendering it now also reads
# the nine tables of the people, organisations, services and playbooks once (their stamp, part of its key and kept
# afterwards: cases.selectors.case_page; the responder's page follows within the stamp's lifetime). Kept, it reads the
# session joined with the user (one query) and its rows (one query among the first thousand cases; its ids, then its rows,
# deeper); the total is kept until what it counts changes (cases.selectors.cases._PreparedListing).
LIST_STAMP_QUERIES = 9
LIST_KEPT_QUERIES = 2
DASHBOARD_QUERIES = 17  # every queue its rows with its total in one query; approvals of four kinds; dead deliveries; the next moment time alone changes the queues (two)
DASHBOARD_KEPT_QUERIES = 1  # kept: the session joined with the user, their permissions and devices; nothing that grows with cases
DETAIL_QUERIES = 42  # the timeline window, the task counts, the open and the finished tasks, the playbook deviations; two of them: the notice receipts and the acknowledgements of all affected organisations; two: customer questions and files
# Issue 18: 36 before the page was kept. Rendering it now also reads the nine tables of the people, organisations,
# services and playbooks it names once (their stamp, kept afterwards: cases.selectors.case_page) and the affected rows once
# more for their receipts (filled in per request), and no longer the breach notices' fan-out of a case without a declared
# breach (there is none before the declaration). Kept, it reads the session joined with the user, their second factor and
# permissions (one query); the case; the affected rows, their receipts and acknowledgements; the alert groups and observables; and,
# on a declared breach, the notices' fan-out (cases.views.pages.CASE_PAGE_SLOTS).
DETAIL_KEPT_QUERIES = 7


def bulk_cases(count: int, *, by, member=None) -> list[Case]:
    now = timezone.now()
    statuses = Case.Status.values
    cases = Case.objects.bulk_create(
        Case(reference=f"IRT-1999-{i:05d}", title=f"Bulk case {i}", created_by=by, owner=by,
             status=statuses[i % len(statuses)], detected_at=now - timedelta(minutes=i))
        for i in range(count)
    )
    if member is not None:
        permission = Permission.objects.get(content_type__app_label="cases", codename="view_case")
        CaseUserObjectPermission.objects.bulk_create(
            CaseUserObjectPermission(user=member, permission=permission, content_object=case) for case in cases
        )
    return cases


@pytest.mark.parametrize("count", [10, 1000])
def test_case_list_query_count_does_not_grow_with_cases(client, manager, responder, count, django_assert_num_queries):
    bulk_cases(count, by=manager, member=responder)
    stamp = LIST_STAMP_QUERIES
    # Time stands still: the stamp, kept for two seconds in a process-local cache, must not expire between the pages.
    with time_machine.travel(timezone.now(), tick=False):
        for user in (manager, responder):
            client.force_login(user)
            for queries in (LIST_QUERIES[user.username] + stamp, LIST_KEPT_QUERIES):  # rendered and kept, then kept
                with django_assert_num_queries(queries):
                    response = client.get(reverse("cases:list"), {"stage": "open"})
                assert response.status_code == 200
                assert response.content.count(b'<td><a class="mono" href="/cases/IRT-1999-') == min(Case.objects.open().count(), 50)
            stamp = 0


def without_token(html: bytes) -> bytes:
    """The page without its CSRF token, which every answer masks anew."""
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", html)


@pytest.mark.parametrize("count", [10, 1000])
def test_dashboard_query_count_does_not_grow_with_cases(client, manager, count, django_assert_num_queries):
    cases = bulk_cases(count, by=manager)
    from cases.models import Deadline

    Deadline.objects.bulk_create(
        Deadline(case=case, kind=Deadline.Kind.CUSTOMER_NOTICE, started_at=timezone.now(),
                 due_at=timezone.now() + timedelta(hours=i)) for i, case in enumerate(cases[:50])
    )
    client.force_login(manager)
    with time_machine.travel(timezone.now(), tick=False):  # the kept copy's 10 s bound never runs out between the two
        with django_assert_num_queries(DASHBOARD_QUERIES):
            response = client.get(reverse("cases:dashboard"))
        assert response.status_code == 200
        with django_assert_num_queries(DASHBOARD_KEPT_QUERIES):
            kept = client.get(reverse("cases:dashboard"))
    assert kept.context is None and without_token(kept.content) == without_token(response.content)


@pytest.mark.parametrize("size", [10, 1200])
def test_case_detail_query_count_does_not_grow_with_related_rows(client, manager, size, django_assert_num_queries):
    case = case_in_stage(Case.Status.STABILIZING, manager=manager)
    Task.objects.bulk_create(Task(case=case, title=f"Task {i}", created_by=manager, mandatory=i % 2 == 0) for i in range(size))
    for i in range(min(size, 25)):
        AffectedCustomerFactory(case=case, by=manager, organization=OrganizationFactory())
    from django.db import transaction

    with transaction.atomic():
        append_events(case=lock_case(case), entries=[(manager, TimelineEvent.Kind.NOTE, f"Note {i}", None) for i in range(size)])
    client.force_login(manager)
    # Time stands still: the stamp, kept for two seconds in a process-local cache, must not expire between the pages.
    with time_machine.travel(timezone.now(), tick=False):
        for queries in (DETAIL_QUERIES, DETAIL_KEPT_QUERIES):  # rendered and kept, then kept
            with django_assert_num_queries(queries):
                response = client.get(case.get_absolute_url())
            assert response.status_code == 200
            # The page shows a window of the timeline and of the open tasks, whatever their length.
            assert response.content.count(b'class="kind-note"') == min(size, TIMELINE_WINDOW)
            assert response.content.count(b'data-testid="task-row"') == min(size, OPEN_TASK_WINDOW)


UPDATE_REVIEW_QUERIES = 10  # 12 before the session and the user were one query, 11 before the case and its members were


@pytest.mark.parametrize("organizations", [1, 25])
def test_update_review_query_count_does_not_grow_with_recipients(client, manager, comms, organizations, django_assert_num_queries):
    from cases.services import communications

    case = case_in_stage(Case.Status.STABILIZING, manager=manager)
    for i in range(organizations):
        AffectedCustomerFactory(case=case, by=manager, organization=OrganizationFactory())
    published = communications.draft_update(case=case, by=manager, public_title="First", what_happened="Reads.")
    communications.approve_update(update=published, by=comms)
    update = communications.draft_update(case=case, by=manager, public_title="Second", what_happened="Reads and lists.")
    client.force_login(comms)
    with django_assert_num_queries(UPDATE_REVIEW_QUERIES):
        response = client.get(reverse("cases:update-review", args=[case.reference, update.pk]))
    assert response.status_code == 200
    assert response.content.count(b"inbox and portal of") == organizations
