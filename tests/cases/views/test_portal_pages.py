"""Portal gaps of issue 16 (item 7, in part): unacknowledged incidents marked on the list, status words explained."""

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


def test_list_marks_the_incidents_the_reader_has_not_acknowledged(client, manager, comms, contoso, contoso_user,
                                                                  django_assert_num_queries):
    read = published_incident(manager, comms, contoso, "Read and acknowledged")
    published_incident(manager, comms, contoso, "Still to acknowledge")
    communications.acknowledge(case=read, user=contoso_user)
    client.force_login(contoso_user)
    client.get(reverse("portal:index"))  # warm the session and the caches a first request fills
    with django_assert_num_queries(6):
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
