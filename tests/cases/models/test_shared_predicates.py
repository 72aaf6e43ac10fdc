"""Each question asked in more than one place has one answer (issue 11 §1)."""

import pytest
from django.db import IntegrityError, transaction

from cases.models.exceptions import ActionRefused
from cases.forms.cases import CaseOpenForm, MemberForm, OwnerForm
from cases.models import (
    AffectedCustomer,
    Case,
    DeadlineDelay,
    IncidentUpdate,
    OutOfBandNotice,
    PostIncidentReview,
    PublishedReview,
    User,
)
from cases.models.approval import FourEyesApproval, ensure_second_person
from cases.services import breach
from cases.services import cases as case_services
from tests.factories import AffectedCustomerFactory, case_in_stage

S = Case.Status


def test_open_cases_are_those_neither_closed_nor_dismissed(manager):
    cases = {stage: case_in_stage(stage, manager=manager) for stage in S.values}
    assert set(Case.objects.open()) == {case for case in cases.values() if case.is_open}
    assert {case.status for case in Case.objects.open()} == {S.DETECTED, S.ASSESSING, S.DIAGNOSING, S.STABILIZING}
    assert {case.status for case in Case.objects.finished()} == {S.CLOSED, S.DISMISSED}


def test_owner_picker_offers_exactly_the_people_the_service_accepts_as_owner(responder, manager, comms, admin, contoso_user):
    offered = set(OwnerForm().fields["owner"].queryset)
    assert offered == set(CaseOpenForm().fields["owner"].queryset)
    assert offered == {responder, manager, admin}
    assert comms not in offered and contoso_user not in offered
    case = case_in_stage(S.ASSESSING, manager=manager)
    with pytest.raises(ActionRefused, match="cannot own a case"):
        case_services.assign_owner(case=case, by=manager, owner=comms)
    for person in offered:
        case = case_services.assign_owner(case=case, by=manager, owner=person)
        assert case.owner == person


def test_staff_queryset_and_staff_predicate_agree(responder, manager, comms, admin, contoso_user):
    from cases.access.permissions import can_own_cases, is_staff_user
    everyone = [responder, manager, comms, admin, contoso_user]
    assert set(User.objects.staff()) == {user for user in everyone if is_staff_user(user)}
    assert set(User.objects.case_owners()) == {user for user in everyone if can_own_cases(user)}
    assert set(MemberForm().fields["user"].queryset) == set(User.objects.staff())


def test_users_with_a_case_permission_include_superusers(manager, admin, responder):
    from notifications.services.outbox import users_with_permission

    assert set(users_with_permission("manage_case")) == {manager, admin}


def test_published_querysets_hold_only_approved_customer_text(manager, second_manager):
    case = case_in_stage(S.DIAGNOSING, manager=manager)
    draft = IncidentUpdate.objects.create(case=case, public_title="Draft", what_happened="x", author=manager)
    published = IncidentUpdate.objects.create(
        case=case, public_title="Out", what_happened="y", author=manager, approved_by=second_manager,
        published_at=case.detected_at,
    )
    assert list(IncidentUpdate.objects.published()) == [published]
    assert list(IncidentUpdate.objects.drafts()) == [draft]
    assert not PublishedReview.objects.published().exists()


def test_the_privacy_filter_returns_only_the_readers_own_confirmed_row(manager, second_manager, contoso, fabrikam):
    case = case_in_stage(S.DIAGNOSING, manager=manager)
    own = AffectedCustomerFactory(case=case, organization=contoso, data_lost=True)
    AffectedCustomerFactory(case=case, organization=fabrikam, data_disclosed=True)
    seen = AffectedCustomer.objects.impact_seen_by(case=case, organization=contoso)
    assert seen == own
    unconfirmed = AffectedCustomer.objects.filter(pk=own.pk)
    unconfirmed.update(confirmed_at=None, confirmed_by=None)
    assert AffectedCustomer.objects.impact_seen_by(case=case, organization=contoso) is None


def test_a_breach_row_is_one_whose_data_was_lost_altered_or_disclosed(manager, contoso, fabrikam):
    case = case_in_stage(S.DIAGNOSING, manager=manager)
    breached = AffectedCustomerFactory(case=case, organization=contoso, data_disclosed=False, data_altered=True)
    unharmed = AffectedCustomerFactory(case=case, organization=fabrikam, data_disclosed=False)
    assert list(case.affected_customers.breached()) == [breached]
    assert breached.is_breach and not unharmed.is_breach


@pytest.mark.parametrize("model", [IncidentUpdate, PublishedReview, PostIncidentReview, DeadlineDelay, OutOfBandNotice])
def test_every_four_eyes_item_shares_the_one_approval_model(model):
    assert issubclass(model, FourEyesApproval)
    author = model.AUTHOR_FIELDS[0]
    (constraint,) = [c for c in model._meta.constraints if "approver" in c.name]
    assert str(constraint.condition) == f"(OR: ('approved_by__isnull', True), (NOT (AND: ('approved_by', F({author})))))"


def test_ensure_second_person_refuses_the_author_and_the_editor(manager, second_manager, contoso):
    case = case_in_stage(S.DIAGNOSING, manager=manager)
    row = breach.add_affected_customer(case=case, by=manager, organization=contoso, data_lost=True)
    with pytest.raises(ActionRefused, match="someone else"):
        ensure_second_person(row, manager, "You added it; someone else must confirm it.")
    ensure_second_person(row, second_manager, "never raised")
    with pytest.raises(IntegrityError), transaction.atomic():
        AffectedCustomer.objects.filter(pk=row.pk).update(confirmed_by=manager)
