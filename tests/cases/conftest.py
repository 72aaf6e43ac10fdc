"""Objects several case test modules build the same way."""

import pytest

from cases.models import Case
from cases.services import cases as case_services
from tests.factories import case_in_stage


@pytest.fixture
def case(manager, responder):
    """Return a case in diagnosis, opened by the manager, with the responder as a member."""
    case = case_in_stage(Case.Status.DIAGNOSING, manager=manager)
    case_services.add_member(case=case, by=manager, user=responder)
    case.refresh_from_db()
    return case
