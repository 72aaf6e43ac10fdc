"""Case references: ``IRT-<year>-<4+ digits>``, unique, numbered per year of detection."""

import re
from datetime import datetime, timezone

import pytest
from django.db import IntegrityError, transaction

from cases.models.exceptions import ActionRefused
from cases.models import Case, ReferenceCounter
from cases.services import cases as case_services
from cases.services.cases import next_reference
from tests.factories import CaseFactory

REFERENCE = re.compile(r"^IRT-(\d{4})-(\d{4,})$")


def test_a_new_case_gets_a_reference_of_year_and_four_digits(responder):
    case = CaseFactory(by=responder)
    match = REFERENCE.match(case.reference)
    assert match, case.reference
    assert int(match.group(1)) == case.detected_at.year
    assert match.group(2) == "0001"


def test_references_count_up_within_a_year(responder):
    references = [CaseFactory(by=responder).reference for _ in range(3)]
    year = Case.objects.first().detected_at.year
    assert references == [f"IRT-{year}-0001", f"IRT-{year}-0002", f"IRT-{year}-0003"]


def test_each_year_of_detection_has_its_own_counter(responder):
    old = CaseFactory(by=responder, detected_at=datetime(2024, 12, 31, 23, 59, tzinfo=timezone.utc))
    new = CaseFactory(by=responder, detected_at=datetime(2025, 1, 1, 0, 1, tzinfo=timezone.utc))
    older = CaseFactory(by=responder, detected_at=datetime(2024, 6, 1, tzinfo=timezone.utc))
    assert (old.reference, new.reference, older.reference) == ("IRT-2024-0001", "IRT-2025-0001", "IRT-2024-0002")


def test_the_number_grows_past_four_digits(responder):
    ReferenceCounter.objects.create(year=2025, last_number=9999)
    case = CaseFactory(by=responder, detected_at=datetime(2025, 3, 1, tzinfo=timezone.utc))
    assert case.reference == "IRT-2025-10000"
    assert REFERENCE.match(case.reference)


def test_a_refused_opening_may_leave_a_gap_but_never_reuses_a_number(responder, comms):
    ReferenceCounter.objects.create(year=2025, last_number=9998)
    first = CaseFactory(by=responder, detected_at=datetime(2025, 3, 1, tzinfo=timezone.utc))
    with pytest.raises(ActionRefused):
        case_services.open_case(
            by=responder, title="x", source=Case.Source.ALERT, owner=comms,
            detected_at=datetime(2025, 3, 2, tzinfo=timezone.utc),
        )
    second = CaseFactory(by=responder, detected_at=datetime(2025, 3, 3, tzinfo=timezone.utc))
    numbers = [int(REFERENCE.match(case.reference).group(2)) for case in (first, second)]
    # Compared as numbers: as strings "IRT-2025-10000" sorts before "IRT-2025-9999".
    assert numbers[1] > numbers[0]
    assert Case.objects.filter(reference=second.reference).count() == 1
    assert not Case.objects.filter(title="x").exists()


def test_next_reference_never_repeats(db):
    references = [next_reference(2030) for _ in range(25)]
    assert len(set(references)) == 25
    assert references[-1] == "IRT-2030-0025"


def test_the_database_refuses_a_duplicate_reference(responder):
    case = CaseFactory(by=responder)
    # The same row with a fresh reference is accepted, so only the duplicate reference is refused.
    Case.objects.create(reference="IRT-1999-0001", title="Copy", created_by=responder)
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.create(reference=case.reference, title="Copy", created_by=responder)
    assert Case.objects.filter(reference=case.reference).count() == 1


def test_the_reference_cannot_be_edited_through_the_details_form(responder):
    case = CaseFactory(by=responder, owner=responder)
    with pytest.raises(ActionRefused, match="cannot be edited here: reference"):
        case_services.update_case_details(case=case, by=responder, changes={"reference": "IRT-1999-0001"})
    assert Case.objects.get(pk=case.pk).reference == case.reference


def test_a_case_reads_as_its_reference_and_title(responder):
    case = CaseFactory(by=responder, title="Leaked access key")
    assert str(case) == f"{case.reference} Leaked access key"
    assert case.get_absolute_url() == f"/cases/{case.reference}/"
