"""Every lifecycle transition, for every role, with every guard.

Each refusal is checked to change nothing on the case and to leave a REFUSED timeline event when
the actor may see the case (and none when they may not know it exists).
"""

from contextlib import contextmanager

import pytest
from django.forms.models import model_to_dict

from cases.models.exceptions import ActionRefused, NotAllowed
from cases.models import Case, TimelineEvent
from cases.services import breach, lifecycle, notices, review, tasks
from cases.services import cases as case_services
from tests.factories import (
    AffectedCustomerFactory,
    CaseFactory,
    OrganizationFactory,
    ServiceFactory,
    StaffFactory,
    TaskFactory,
    case_in_stage,
)

S = Case.Status


def snapshot(case: Case) -> dict:
    """Return everything a refusal must leave alone: the case row (bar the timeline head) and its children."""
    fresh = Case.objects.get(pk=case.pk)
    row = model_to_dict(fresh, exclude=["affected_services"])
    row.update(
        status=fresh.status,
        version=fresh.version,
        services=sorted(fresh.affected_services.values_list("pk", flat=True)),
        tasks=list(fresh.tasks.order_by("pk").values_list("pk", "done_at")),
        customers=list(fresh.affected_customers.order_by("pk").values_list("pk", "notified_at")),
        deadlines=list(fresh.deadlines.order_by("pk").values_list("pk", "due_at", "met_at")),
    )
    return row


def events(case: Case):
    return list(TimelineEvent.objects.filter(case=case).order_by("sequence"))


@contextmanager
def refused(case: Case, exc=ActionRefused, *, match: str = "", recorded: bool = True):
    """Expect ``exc``; then check the case is untouched and the refusal was (or was not) recorded."""
    before, before_events = snapshot(case), events(case)
    with pytest.raises(exc) as info:
        yield info
    assert snapshot(case) == before
    new_events = events(case)[len(before_events):]
    if recorded:
        assert [e.kind for e in new_events] == [TimelineEvent.Kind.REFUSED]
        assert match in new_events[0].text
    else:
        assert new_events == []
    assert match in str(info.value)


def assert_moved(case: Case, *, before: Case, action: str, to: str):
    case.refresh_from_db()
    assert case.status == to
    assert case.version == before.version + 1
    new_events = events(case)[before_count(before):]
    assert [e.kind for e in new_events] == [TimelineEvent.Kind.TRANSITION]
    assert new_events[0].data["action"] == action
    assert new_events[0].data["from"] == before.status
    assert new_events[0].data["to"] == to


def before_count(case: Case) -> int:
    return case._event_count


def remember(case: Case) -> Case:
    """Return a copy of the case as it is now, with its event count, to compare against later."""
    copy = Case.objects.get(pk=case.pk)
    copy._event_count = TimelineEvent.objects.filter(case=case).count()
    return copy


def ready_for_diagnosis(case: Case, by) -> Case:
    return case_services.update_case_details(
        case=case, by=by, changes={"severity": Case.Severity.MEDIUM, "scope": Case.Scope.SHARED},
        services=[ServiceFactory(name="Compute")],
    )


def approve_a_review(case: Case, *, approver) -> None:
    author = StaffFactory()
    case_services.add_member(case=case, by=approver, user=author)
    review.save_review(case=case, by=author, what_happened="Key leaked.", what_went_wrong="Key in a public repo.")
    review.approve_review(case=case, by=approver)


# -- every action x every role -------------------------------------------------------------------

ORDINARY = {"start_assessment", "start_diagnosis", "stabilize", "resume_diagnosis", "dismiss"}
EVERY_ACTION = ORDINARY | {"close", "reopen"}

# action -> (stage it starts from, keyword arguments, stage it ends in)
ACTION_CASES = {
    "start_assessment": (S.DETECTED, {}, S.ASSESSING),
    "start_diagnosis": (S.ASSESSING, {}, S.DIAGNOSING),
    "stabilize": (S.DIAGNOSING, {"note": "Revoked the leaked key."}, S.STABILIZING),
    "resume_diagnosis": (S.STABILIZING, {"note": "New indicators on a second host."}, S.DIAGNOSING),
    "close": (S.STABILIZING, {"note": "Recovered and reviewed."}, S.CLOSED),
    "reopen": (S.CLOSED, {"note": "The attacker came back."}, S.DIAGNOSING),
    "dismiss": (S.DETECTED, {"reason": Case.DismissalReason.FALSE_POSITIVE, "note": "Our own scanner."}, S.DISMISSED),
}

# role -> (actions it may take on an unrestricted case, may it see the case, same on a restricted case)
ROLES = {
    "member_responder": (ORDINARY, True, ORDINARY, True),
    "outsider_responder": (set(), False, set(), False),
    "comms": (set(), True, set(), False),
    "other_manager": (EVERY_ACTION, True, set(), False),
    "admin": (EVERY_ACTION, True, EVERY_ACTION, True),
    "customer": (set(), False, set(), False),
}


def prepared_case(action: str, *, manager, member, restricted: bool) -> Case:
    stage = ACTION_CASES[action][0]
    case = case_in_stage(stage, manager=manager, restricted=restricted)
    case_services.add_member(case=case, by=manager, user=member)
    if action == "start_diagnosis":
        case = ready_for_diagnosis(case, manager)
    if action == "close":
        approve_a_review(case, approver=manager)
    return Case.objects.get(pk=case.pk)


@pytest.mark.parametrize("restricted", [False, True], ids=["unrestricted", "restricted"])
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", sorted(EVERY_ACTION))
def test_each_role_may_take_exactly_the_transitions_its_role_allows(action, role, restricted, personas, manager, responder):
    case = prepared_case(action, manager=manager, member=responder, restricted=restricted)
    allowed, sees, allowed_restricted, sees_restricted = ROLES[role]
    if restricted:
        allowed, sees = allowed_restricted, sees_restricted
    user = personas[role]
    _, kwargs, target = ACTION_CASES[action]
    if action in allowed:
        before = remember(case)
        result = lifecycle.run_action(action_name=action, case=case, by=user, **kwargs)
        assert result.status == target
        assert_moved(case, before=before, action=action, to=target)
        assert events(case)[-1].actor == user
    else:
        with refused(case, NotAllowed, recorded=sees):
            lifecycle.run_action(action_name=action, case=case, by=user, **kwargs)


# -- detected -> assessing ----------------------------------------------------------------------


def test_member_responder_starts_assessment_of_the_case_they_own(responder):
    case = CaseFactory(by=responder, owner=responder)
    before = remember(case)
    lifecycle.start_assessment(case=case, by=responder)
    assert_moved(case, before=before, action="start_assessment", to=S.ASSESSING)


def test_assessment_cannot_start_without_an_owner(responder):
    case = CaseFactory(by=responder, owner=None)
    with refused(case, match="Assign an owner"):
        lifecycle.start_assessment(case=case, by=responder)


def test_assessment_starts_once_an_owner_is_assigned(responder):
    case = CaseFactory(by=responder, owner=None)
    case = case_services.assign_owner(case=case, by=responder, owner=responder)
    assert lifecycle.start_assessment(case=case, by=responder).status == S.ASSESSING


# -- assessing -> diagnosing --------------------------------------------------------------------


@pytest.mark.parametrize(
    "missing, reason",
    [
        ("severity", "Set a severity."),
        ("services", "Name at least one affected service."),
        ("scope", "Set the shared-responsibility scope"),
    ],
)
def test_diagnosis_cannot_start_while_a_required_detail_is_missing(missing, reason, manager):
    case = case_in_stage(S.ASSESSING, manager=manager)
    changes = {"severity": Case.Severity.HIGH, "scope": Case.Scope.PROVIDER}
    changes.pop(missing, None)
    services = [] if missing == "services" else [ServiceFactory(name="Object Storage")]
    case = case_services.update_case_details(case=case, by=manager, changes=changes, services=services)
    with refused(case, match=reason) as info:
        lifecycle.start_diagnosis(case=case, by=manager)
    assert info.value.reasons == Case.objects.get(pk=case.pk).start_diagnosis_blockers()
    assert len(info.value.reasons) == 1


def test_diagnosis_refusal_lists_every_missing_detail(manager):
    case = case_in_stage(S.ASSESSING, manager=manager)
    with refused(case) as info:
        lifecycle.start_diagnosis(case=case, by=manager)
    assert len(info.value.reasons) == 3


def test_member_responder_starts_diagnosis_with_severity_services_and_scope(manager, responder):
    case = case_in_stage(S.ASSESSING, manager=manager)
    case_services.add_member(case=case, by=manager, user=responder)
    case = ready_for_diagnosis(case, responder)
    before = remember(case)
    lifecycle.start_diagnosis(case=case, by=responder)
    assert_moved(case, before=before, action="start_diagnosis", to=S.DIAGNOSING)
    assert case.assessed_at is not None


@pytest.mark.parametrize("action", ["start_diagnosis", "stabilize", "close", "reopen"])
def test_a_transition_from_the_wrong_stage_is_refused_with_the_stage_it_needs(action, manager):
    case = case_in_stage(S.DETECTED, manager=manager)
    with refused(case, match="is possible only while the case is"):
        lifecycle.run_action(action_name=action, case=case, by=manager, note="A note.")


# -- dismissal ----------------------------------------------------------------------------------


@pytest.mark.parametrize("stage", [S.DETECTED, S.ASSESSING])
def test_member_responder_dismisses_a_false_positive_with_a_note(stage, manager, responder):
    case = case_in_stage(stage, manager=manager)
    case_services.add_member(case=case, by=manager, user=responder)
    before = remember(case)
    lifecycle.dismiss_case(case=case, by=responder, reason=Case.DismissalReason.FALSE_POSITIVE, note="Pen test.")
    assert_moved(case, before=before, action="dismiss", to=S.DISMISSED)
    assert case.dismissal_reason == Case.DismissalReason.FALSE_POSITIVE
    assert case.dismissed_at is not None
    assert events(case)[-1].data["reason"] == Case.DismissalReason.FALSE_POSITIVE


@pytest.mark.parametrize("stage", [S.DIAGNOSING, S.STABILIZING, S.CLOSED, S.DISMISSED])
def test_a_case_past_assessment_cannot_be_dismissed(stage, manager):
    case = case_in_stage(stage, manager=manager)
    with refused(case, match="possible only while the case is detected or assessing"):
        lifecycle.dismiss_case(case=case, by=manager, reason=Case.DismissalReason.NOT_SECURITY, note="Not ours.")


SELF = object()  # stands for the case being dismissed


@pytest.mark.parametrize(
    "reason, note, duplicate_of, message",
    [
        pytest.param(Case.DismissalReason.NOT_SECURITY, "  ", None, "Write a note that explains the dismissal.", id="needs-a-note"),
        pytest.param("", "Looks fine.", None, "Choose why the case is dismissed.", id="needs-a-known-reason"),
        pytest.param(Case.DismissalReason.DUPLICATE, "Seen before.", None, "Name the case this one duplicates.",
                     id="as-duplicate-needs-the-case-it-duplicates"),
        pytest.param(Case.DismissalReason.DUPLICATE, "Hm.", SELF, "cannot duplicate itself", id="not-a-duplicate-of-itself"),
    ],
)
def test_a_dismissal_missing_what_it_asks_for_is_refused(manager, reason, note, duplicate_of, message):
    case = case_in_stage(S.DETECTED, manager=manager)
    extra = {"duplicate_of": case} if duplicate_of is SELF else {}
    with refused(case, match=message):
        lifecycle.dismiss_case(case=case, by=manager, reason=reason, note=note, **extra)


def test_duplicate_dismissal_records_the_original_case(manager):
    original = case_in_stage(S.DIAGNOSING, manager=manager)
    case = case_in_stage(S.ASSESSING, manager=manager)
    lifecycle.dismiss_case(
        case=case, by=manager, reason=Case.DismissalReason.DUPLICATE, note="Same alert.", duplicate_of=original
    )
    case.refresh_from_db()
    assert case.duplicate_of == original
    assert events(case)[-1].data["duplicate_of"] == original.reference


def test_outsider_cannot_learn_anything_by_dismissing_without_a_reason(manager, other_responder):
    case = case_in_stage(S.DETECTED, manager=manager)
    with refused(case, NotAllowed, recorded=False):
        lifecycle.dismiss_case(case=case, by=other_responder, reason="", note="")


# -- diagnosing <-> stabilizing -----------------------------------------------------------------


def test_member_responder_moves_to_stabilizing_with_a_containment_note(manager, responder):
    case = case_in_stage(S.DIAGNOSING, manager=manager)
    case_services.add_member(case=case, by=manager, user=responder)
    before = remember(case)
    lifecycle.stabilize(case=case, by=responder, note="Blocked the attacker's IP range.")
    assert_moved(case, before=before, action="stabilize", to=S.STABILIZING)
    assert case.contained_at is not None
    assert "Blocked the attacker's IP range." in events(case)[-1].text


def test_member_responder_goes_back_to_diagnosing_with_a_note(manager, responder):
    case = case_in_stage(S.STABILIZING, manager=manager)
    case_services.add_member(case=case, by=manager, user=responder)
    contained_at = Case.objects.get(pk=case.pk).contained_at
    before = remember(case)
    lifecycle.resume_diagnosis(case=case, by=responder, note="Found a second foothold.")
    assert_moved(case, before=before, action="resume_diagnosis", to=S.DIAGNOSING)
    lifecycle.stabilize(case=case, by=responder, note="Second foothold removed.")
    case.refresh_from_db()
    assert case.contained_at == contained_at, "containment time is the first containment"


@pytest.mark.parametrize(
    "stage, action, note, message",
    [
        (S.DIAGNOSING, "stabilize", "", "Write a containment or recovery note"),
        (S.STABILIZING, "resume_diagnosis", "", "Say why the case goes back to diagnosing."),
        (S.STABILIZING, "close", "", "Write a closing note."),
        (S.CLOSED, "reopen", " ", "Give the reason for reopening."),
    ],
)
def test_an_action_that_takes_a_note_refuses_an_empty_one(stage, action, note, message, manager):
    case = case_in_stage(stage, manager=manager)
    if action == "close":
        approve_a_review(case, approver=manager)  # so that the note is all that is missing
    with refused(case, match=message):
        lifecycle.run_action(action_name=action, case=case, by=manager, note=note)


# -- stabilizing -> closed ----------------------------------------------------------------------


def test_manager_closes_case_with_approved_review(manager, second_manager):
    case = case_in_stage(S.STABILIZING, manager=manager)
    approve_a_review(case, approver=manager)
    before = remember(case)
    lifecycle.close_case(case=case, by=second_manager, note="Recovered.")
    assert_moved(case, before=before, action="close", to=S.CLOSED)
    assert case.closed_at is not None
    assert case.recovered_at is not None


def test_member_responder_cannot_close_even_when_nothing_blocks(manager, responder):
    case = case_in_stage(S.STABILIZING, manager=manager)
    case_services.add_member(case=case, by=manager, user=responder)
    approve_a_review(case, approver=manager)
    with refused(case, NotAllowed, match="Only an incident manager"):
        lifecycle.close_case(case=case, by=responder, note="Done.")


def test_close_is_blocked_without_a_post_incident_review(manager):
    case = case_in_stage(S.STABILIZING, manager=manager)
    with refused(case, match="Write the post-incident review."):
        lifecycle.close_case(case=case, by=manager, note="Done.")


def test_close_is_blocked_while_the_review_is_unapproved(manager, responder):
    case = case_in_stage(S.STABILIZING, manager=manager)
    case_services.add_member(case=case, by=manager, user=responder)
    review.save_review(case=case, by=responder, what_happened="x", what_went_wrong="y")
    with refused(case, match="The post-incident review is not approved yet."):
        lifecycle.close_case(case=case, by=manager, note="Done.")


def test_close_is_blocked_by_an_open_mandatory_task_until_it_is_done(manager):
    case = case_in_stage(S.STABILIZING, manager=manager)
    approve_a_review(case, approver=manager)
    task = TaskFactory(case=case, by=manager, title="Rotate every key", mandatory=True)
    with refused(case, match="1 mandatory task is still open."):
        lifecycle.close_case(case=case, by=manager, note="Done.")
    tasks.complete_task(task=task, by=manager)
    assert lifecycle.close_case(case=case, by=manager, note="Done.").status == S.CLOSED


def test_close_counts_every_open_mandatory_task(manager):
    case = case_in_stage(S.STABILIZING, manager=manager)
    approve_a_review(case, approver=manager)
    TaskFactory(case=case, by=manager, mandatory=True)
    TaskFactory(case=case, by=manager, mandatory=True)
    with refused(case, match="2 mandatory tasks are still open."):
        lifecycle.close_case(case=case, by=manager, note="Done.")


def test_an_open_optional_task_does_not_block_closing(manager):
    case = case_in_stage(S.STABILIZING, manager=manager)
    approve_a_review(case, approver=manager)
    TaskFactory(case=case, by=manager, mandatory=False)
    assert lifecycle.close_case(case=case, by=manager, note="Done.").status == S.CLOSED


def test_close_is_blocked_until_every_breached_organisation_is_notified(manager, contoso, fabrikam):
    case = case_in_stage(S.DIAGNOSING, manager=manager)
    contoso_row = AffectedCustomerFactory(case=case, by=manager, organization=contoso)
    # Fabrikam is listed but its data was not touched, so it gets no breach notice and does not block.
    AffectedCustomerFactory(case=case, by=manager, organization=fabrikam, data_disclosed=False)
    breach.declare_breach(case=case, by=manager, note="Objects were read across accounts.")
    lifecycle.stabilize(case=case, by=manager, note="Policy rolled back.")
    approve_a_review(case, approver=manager)
    with refused(case, match="Breach notice not yet delivered to Contoso."):
        lifecycle.close_case(case=case, by=manager, note="Done.")
    notices.record_customer_notified(row=contoso_row, how="email")
    assert lifecycle.close_case(case=case, by=manager, note="Done.").status == S.CLOSED


def test_close_refusal_lists_every_blocker(manager, contoso):
    case = case_in_stage(S.DIAGNOSING, manager=manager)
    AffectedCustomerFactory(case=case, by=manager, organization=contoso)
    breach.declare_breach(case=case, by=manager, note="Objects were read.")
    lifecycle.stabilize(case=case, by=manager, note="Contained.")
    TaskFactory(case=case, by=manager, mandatory=True)
    with refused(case) as info:
        lifecycle.close_case(case=case, by=manager, note="Done.")
    assert info.value.reasons == [
        "1 mandatory task is still open.",
        "Write the post-incident review.",
        "Breach notice not yet delivered to Contoso.",
    ]


# -- closed -> diagnosing -----------------------------------------------------------------------


def test_manager_reopens_a_closed_case_with_a_reason(manager, second_manager):
    case = case_in_stage(S.CLOSED, manager=manager)
    before = remember(case)
    lifecycle.reopen_case(case=case, by=second_manager, note="Same key seen again.")
    assert_moved(case, before=before, action="reopen", to=S.DIAGNOSING)
    assert case.closed_at is None
    assert "Same key seen again." in events(case)[-1].text


def test_member_responder_cannot_reopen(manager, responder):
    case = case_in_stage(S.CLOSED, manager=manager)
    case_services.add_member(case=case, by=manager, user=responder)
    with refused(case, NotAllowed, match="Only an incident manager"):
        lifecycle.reopen_case(case=case, by=responder, note="Please.")


@pytest.mark.parametrize("action", sorted(EVERY_ACTION))
def test_a_dismissed_case_is_final(action, manager):
    case = case_in_stage(S.DISMISSED, manager=manager)
    with refused(case):
        lifecycle.run_action(
            action_name=action, case=case, by=manager, note="Try.",
            **({"reason": Case.DismissalReason.NOT_SECURITY} if action == "dismiss" else {}),
        )


def test_a_reopened_case_can_be_closed_again(manager):
    case = case_in_stage(S.CLOSED, manager=manager)
    lifecycle.reopen_case(case=case, by=manager, note="Again.")
    lifecycle.stabilize(case=case, by=manager, note="Contained again.")
    assert lifecycle.close_case(case=case, by=manager, note="Done again.").status == S.CLOSED


def test_an_unknown_action_is_refused(manager):
    case = case_in_stage(S.DETECTED, manager=manager)
    with pytest.raises(ActionRefused, match="There is no action called 'explode'"):
        lifecycle.run_action(action_name="explode", case=case, by=manager)


def test_status_cannot_be_assigned_directly(manager):
    case = case_in_stage(S.DETECTED, manager=manager)
    with pytest.raises(AttributeError):
        case.status = S.CLOSED


def test_available_actions_explain_what_blocks_each_transition(manager, responder):
    case = case_in_stage(S.STABILIZING, manager=manager)
    case_services.add_member(case=case, by=manager, user=responder)
    for_responder = {state.action.name: state for state in lifecycle.available_actions(case, responder)}
    # Declaring a breach is offered in the same list as the stage changes.
    assert list(for_responder) == ["resume_diagnosis", "close", "declare_breach"]
    assert for_responder["resume_diagnosis"].allowed
    assert not for_responder["close"].allowed
    assert for_responder["close"].reasons[0].startswith("Only an incident manager")
    assert for_responder["close"].codes == {"managers_only", "no_review"}
    assert for_responder["declare_breach"].reasons[0] == "Only an incident manager working on this case can declare a breach."
    for_manager = {state.action.name: state for state in lifecycle.available_actions(case, manager)}
    assert for_manager["close"].reasons == ["Write the post-incident review."]
    assert for_manager["declare_breach"].codes == {"no_breached_customer"}


def test_transition_words_come_from_the_transition_declarations(manager):
    status = Case._meta.get_field("status")
    declared = {transition.name: transition for transition in status.get_all_transitions(Case)}
    assert set(lifecycle.LIFECYCLE) == set(declared)
    for name, action in lifecycle.LIFECYCLE.items():
        assert action.label == declared[name].custom["label"]
        assert action.help == declared[name].custom.get("help", "")
    # Stage changes run through run_action; declaring a breach has its own page and service.
    assert set(lifecycle.ACTIONS) == {name for name, transition in declared.items() if transition.target is not None}
    assert lifecycle.LIFECYCLE["declare_breach"].form == "cases:declare-breach"


def test_declare_breach_is_offered_until_a_breach_is_declared(manager):
    case = case_in_stage(S.DIAGNOSING, manager=manager)
    offered = {state.action.name: state for state in lifecycle.available_actions(case, manager)}
    assert not offered["declare_breach"].allowed
    breach.add_affected_customer(case=case, by=manager, organization=OrganizationFactory(), data_lost=True)
    case.refresh_from_db()
    offered = {state.action.name: state for state in lifecycle.available_actions(case, manager)}
    assert offered["declare_breach"].allowed
    breach.declare_breach(case=case, by=manager, note="Logs show exfiltration.")
    case.refresh_from_db()
    assert "declare_breach" not in {state.action.name for state in lifecycle.available_actions(case, manager)}
    assert case.declare_breach_blockers()[0].code == "already_declared"


def test_blockers_carry_a_code_beside_their_words(manager):
    case = case_in_stage(S.DETECTED, manager=manager)
    case.owner = None
    reasons = case.start_assessment_blockers()
    assert [reason.code for reason in reasons] == ["no_owner"]
    assert reasons == ["Assign an owner: someone must be on point for the assessment."]


def test_case_detail_offers_a_declare_breach_link_among_the_actions(client, manager):
    case = case_in_stage(S.DIAGNOSING, manager=manager)
    breach.add_affected_customer(case=case, by=manager, organization=OrganizationFactory(), data_lost=True)
    client.force_login(manager)
    page = client.get(case.get_absolute_url()).content.decode()
    assert f'href="/cases/{case.reference}/declare-breach/"' in page
    assert "Declare breach…" in page


def test_a_mandatory_task_cannot_be_added_to_a_closed_case(manager):
    case = case_in_stage(S.CLOSED, manager=manager)
    with pytest.raises(ActionRefused, match="reopen it before adding mandatory work"):
        tasks.add_task(case=case, by=manager, title="Rotate keys", mandatory=True)
    assert not case.tasks.exists()
    assert tasks.add_task(case=case, by=manager, title="Write the blog post").mandatory is False


def test_a_done_mandatory_task_cannot_be_reopened_on_a_closed_case(manager):
    case = case_in_stage(S.STABILIZING, manager=manager)
    approve_a_review(case, approver=manager)
    task = TaskFactory(case=case, by=manager, mandatory=True)
    tasks.complete_task(task=task, by=manager)
    lifecycle.close_case(case=case, by=manager, note="Done.")
    with pytest.raises(ActionRefused, match="reopen it before adding mandatory work"):
        tasks.reopen_task(task=task, by=manager)
    task.refresh_from_db()
    assert task.is_done
