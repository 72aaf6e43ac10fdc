"""Who may see and act on which case: ``cases.access`` and the services that ask it."""

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.http import Http404

from cases.access.permissions import can_manage_case, can_open_cases, can_view_case, can_work_on_case, is_manager, is_member, is_staff_user, role_label

from cases.access.querysets import visible_cases

from cases.access.lookups import get_case_for
from cases.models.exceptions import ActionRefused, CaseChanged, NotAllowed
from cases.models import Case, TimelineEvent
from cases.services import lifecycle, review, tasks
from cases.services import cases as case_services
from cases.services.timeline import add_note
from tests.factories import CaseFactory, StaffFactory, UserFactory, case_in_stage

S = Case.Status


@pytest.fixture
def open_case(manager, responder):
    case = CaseFactory(by=manager, owner=manager)
    case_services.add_member(case=case, by=manager, user=responder)
    return case


@pytest.fixture
def restricted_case(manager, responder):
    case = CaseFactory(by=manager, owner=manager, restricted=True)
    case_services.add_member(case=case, by=manager, user=responder)
    return case


# persona -> (sees unrestricted, works on it, manages it, sees restricted, works on it, manages it)
MATRIX = {
    "member_responder": (True, True, False, True, True, False),
    "outsider_responder": (False, False, False, False, False, False),
    "opening_manager": (True, True, True, True, True, True),
    "other_manager": (True, True, True, False, False, False),
    "comms": (True, False, False, False, False, False),
    "admin": (True, True, True, True, True, True),
    "customer": (False, False, False, False, False, False),
}


@pytest.mark.parametrize("persona", MATRIX)
def test_each_persona_sees_works_on_and_manages_exactly_what_its_role_allows(
    persona, personas, open_case, restricted_case
):
    user = personas[persona]
    sees, works, manages, sees_r, works_r, manages_r = MATRIX[persona]
    assert can_view_case(user, open_case) is sees
    assert can_work_on_case(open_case, user) is works
    assert can_manage_case(open_case, user) is manages
    assert can_view_case(user, restricted_case) is sees_r
    assert can_work_on_case(restricted_case, user) is works_r
    assert can_manage_case(restricted_case, user) is manages_r
    visible = set(visible_cases(user))
    assert (open_case in visible) is sees
    assert (restricted_case in visible) is sees_r


@pytest.mark.parametrize("persona", MATRIX)
def test_get_case_for_gives_404_to_who_may_not_know_and_403_to_who_may_only_read(persona, personas, open_case):
    user = personas[persona]
    sees, works, *_ = MATRIX[persona]
    if not sees:
        with pytest.raises(Http404):
            get_case_for(user, open_case.reference)
        return
    assert get_case_for(user, open_case.reference) == open_case
    if works:
        assert get_case_for(user, open_case.reference, write=True) == open_case
    else:
        with pytest.raises(PermissionDenied):
            get_case_for(user, open_case.reference, write=True)


def test_an_unknown_reference_is_a_404(manager):
    with pytest.raises(Http404):
        get_case_for(manager, "IRT-2000-9999")


def test_restricted_case_is_a_404_for_a_manager_who_is_not_a_member(restricted_case, second_manager):
    with pytest.raises(Http404):
        get_case_for(second_manager, restricted_case.reference)


def test_manager_sees_a_restricted_case_once_added_as_a_member(restricted_case, manager, second_manager):
    case_services.add_member(case=restricted_case, by=manager, user=second_manager)
    fresh = Case.objects.get(pk=restricted_case.pk)
    assert can_view_case(second_manager, fresh)
    assert can_manage_case(fresh, second_manager)
    assert fresh in visible_cases(second_manager)


def test_responder_loses_access_when_removed_from_the_members(open_case, manager, responder):
    case_services.remove_member(case=open_case, by=manager, user=responder)
    fresh = Case.objects.get(pk=open_case.pk)
    assert not can_view_case(responder, fresh)
    assert fresh not in visible_cases(responder)
    with pytest.raises(NotAllowed):
        lifecycle.start_assessment(case=fresh, by=responder)


def test_owner_is_a_member_even_without_a_membership_row(manager, responder):
    case = CaseFactory(by=manager, owner=manager)
    Case.objects.filter(pk=case.pk).update(owner=responder)
    fresh = Case.objects.get(pk=case.pk)
    assert is_member(responder, fresh)
    assert fresh in visible_cases(responder)


def test_opener_stays_a_member_of_a_restricted_case_they_do_not_own(responder, manager):
    case = CaseFactory(by=responder, owner=manager, restricted=True)
    assert can_work_on_case(case, responder)
    assert can_work_on_case(case, manager)


def test_customer_never_sees_a_case_even_if_their_organisation_is_affected(manager, contoso, contoso_user):
    from tests.factories import AffectedCustomerFactory

    case = case_in_stage(S.DIAGNOSING, manager=manager)
    AffectedCustomerFactory(case=case, by=manager, organization=contoso)
    assert not can_view_case(contoso_user, case)
    assert list(visible_cases(contoso_user)) == []
    with pytest.raises(Http404):
        get_case_for(contoso_user, case.reference)


def test_customer_placed_in_a_staff_team_by_mistake_still_sees_nothing(open_case, contoso_user):
    contoso_user.groups.add(Group.objects.get(name="Incident managers"))
    user = type(contoso_user).objects.get(pk=contoso_user.pk)
    assert user.has_perm("cases.manage_case")
    assert not is_staff_user(user)
    assert not is_manager(user)
    assert not can_view_case(user, open_case)
    assert list(visible_cases(user)) == []


def test_a_deactivated_responder_loses_access(open_case, responder):
    responder.is_active = False
    responder.save()
    user = type(responder).objects.get(pk=responder.pk)
    assert not can_view_case(user, open_case)
    assert list(visible_cases(user)) == []


def test_a_user_without_a_team_sees_nothing(open_case):
    nobody = UserFactory()
    assert not is_staff_user(nobody)
    assert list(visible_cases(nobody)) == []
    assert role_label(nobody) == "none"


def test_superuser_sees_every_case_including_restricted_ones(admin, second_manager, open_case, restricted_case):
    # A restricted case the admin has no tie to at all, opened by someone else.
    unrelated = CaseFactory(by=second_manager, owner=second_manager, restricted=True)
    visible = list(visible_cases(admin))
    assert sorted(case.pk for case in visible) == sorted([open_case.pk, restricted_case.pk, unrelated.pk])


def test_comms_reads_every_unrestricted_case_and_no_restricted_one(comms, second_manager, open_case, restricted_case):
    other_unrestricted = CaseFactory(by=second_manager, owner=second_manager)
    CaseFactory(by=second_manager, owner=second_manager, restricted=True)
    visible = list(visible_cases(comms))
    assert sorted(case.pk for case in visible) == sorted([open_case.pk, other_unrestricted.pk])
    assert not can_view_case(comms, restricted_case)


@pytest.mark.parametrize(
    "persona, label",
    [
        ("member_responder", "responder"),
        ("opening_manager", "manager"),
        ("comms", "comms"),
        ("admin", "admin"),
        ("customer", "customer"),
    ],
)
def test_role_label_names_the_persona(persona, label, personas):
    assert role_label(personas[persona]) == label


@pytest.mark.parametrize("persona, may", [("member_responder", True), ("opening_manager", True), ("comms", False), ("customer", False)])
def test_only_responders_and_managers_open_cases(persona, may, personas):
    user = personas[persona]
    assert can_open_cases(user) is may
    if may:
        case = case_services.open_case(by=user, title="Odd login", source=Case.Source.ALERT)
        assert can_work_on_case(case, user)
    else:
        with pytest.raises(NotAllowed):
            case_services.open_case(by=user, title="Odd login", source=Case.Source.ALERT)
        assert not Case.objects.exists()


def test_comms_cannot_own_a_case(responder, comms):
    with pytest.raises(ActionRefused, match="cannot own a case"):
        case_services.open_case(by=responder, title="Odd login", source=Case.Source.ALERT, owner=comms)
    assert not Case.objects.exists()


def test_a_customer_cannot_become_a_member(open_case, manager, contoso_user):
    with pytest.raises(ActionRefused, match="not on the response team"):
        case_services.add_member(case=open_case, by=manager, user=contoso_user)
    assert not can_view_case(contoso_user, Case.objects.get(pk=open_case.pk))


def test_only_a_manager_restricts_a_case(open_case, responder, manager):
    with pytest.raises(NotAllowed):
        case_services.update_case_details(case=open_case, by=responder, changes={"restricted": True})
    assert not Case.objects.get(pk=open_case.pk).restricted
    case_services.update_case_details(case=open_case, by=manager, changes={"restricted": True})
    assert Case.objects.get(pk=open_case.pk).restricted


def test_comms_can_read_but_not_add_notes_or_tasks(open_case, comms):
    with pytest.raises(NotAllowed):
        add_note(case=open_case, by=comms, text="I was here.")
    with pytest.raises(NotAllowed):
        tasks.add_task(case=open_case, by=comms, title="Draft notice")
    assert list(open_case.timeline.values_list("kind", flat=True)) == [
        TimelineEvent.Kind.OPENED, TimelineEvent.Kind.MEMBER_ADDED
    ]


def test_comms_approves_a_review_written_by_someone_else(manager, responder, comms):
    case = case_in_stage(S.STABILIZING, manager=manager)
    case_services.add_member(case=case, by=manager, user=responder)
    review.save_review(case=case, by=responder, what_happened="x", what_went_wrong="y")
    assert review.approve_review(case=case, by=comms).approved_by == comms


def test_nobody_approves_their_own_review(manager):
    case = case_in_stage(S.STABILIZING, manager=manager)
    review.save_review(case=case, by=manager, what_happened="x", what_went_wrong="y")
    with pytest.raises(ActionRefused, match="someone else must approve it"):
        review.approve_review(case=case, by=manager)


def test_outsider_with_a_stale_version_is_told_nothing_about_the_case(open_case, other_responder):
    """A stale version must not leak the case's reference or stage to someone who may not see it."""
    with pytest.raises(NotAllowed) as refused:
        lifecycle.start_assessment(case=open_case, by=other_responder, expected_version=open_case.version - 1)
    message = str(refused.value)
    assert not isinstance(refused.value, CaseChanged)
    assert open_case.reference not in message and open_case.title not in message
    assert open_case.get_status_display().lower() not in message.lower()
    assert Case.objects.get(pk=open_case.pk).status == S.DETECTED


def test_member_with_a_stale_version_is_told_the_case_changed(open_case, responder):
    with pytest.raises(CaseChanged, match=open_case.reference):
        lifecycle.start_assessment(case=open_case, by=responder, expected_version=open_case.version - 1)
    assert Case.objects.get(pk=open_case.pk).status == S.DETECTED


def test_new_responder_on_the_team_sees_no_case_until_added(open_case, restricted_case, manager):
    newcomer = StaffFactory()
    assert list(visible_cases(newcomer)) == []
    assert not can_view_case(newcomer, open_case)
    case_services.add_member(case=open_case, by=manager, user=newcomer)
    assert list(visible_cases(newcomer)) == [open_case]
    fresh = Case.objects.get(pk=open_case.pk)  # a loaded copy caches its members
    assert can_view_case(newcomer, fresh) and not can_view_case(newcomer, restricted_case)


def test_a_removed_member_cannot_add_a_note_through_a_copy_loaded_before_removal(open_case, manager, responder):
    loaded = Case.objects.get(pk=open_case.pk)
    assert can_work_on_case(loaded, responder)  # caches the members on the loaded copy
    case_services.remove_member(case=open_case, by=manager, user=responder)
    with pytest.raises(NotAllowed):
        add_note(case=loaded, by=responder, text="Still here.")
    assert not open_case.timeline.filter(kind=TimelineEvent.Kind.NOTE).exists()
