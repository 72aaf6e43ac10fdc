from cases.models import Case
from tests.factories import case_in_stage


def test_a_case_can_be_driven_to_every_stage(manager):
    for stage in Case.Status.values:
        assert case_in_stage(stage, manager=manager).status == stage
