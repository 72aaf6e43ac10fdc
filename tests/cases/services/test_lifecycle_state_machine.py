"""Random sequences of actions by random people, with the case's promises checked after every step.

The machine keeps its own small model of who is a member and whether the case is restricted, and
uses it as the oracle for who may see, work on and manage the case. After every step:

- the status is one of the six stages and the version never went down;
- a closed case has an approved review and no open mandatory task;
- the timeline hash chain verifies and ends at ``Case.timeline_head``;
- a refused action changed nothing, and left a REFUSED event exactly when the lifecycle refused
  someone who may see the case;
- an action that succeeded was allowed to the actor and wrote exactly its own timeline event(s).
"""

import pytest
from django.forms.models import model_to_dict
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from cases.models.exceptions import ActionRefused, CaseChanged, NotAllowed
from cases.models import AffectedCustomer, Case, CaseUserObjectPermission, Deadline, PostIncidentReview, Task, TimelineEvent
from cases.services import breach, lifecycle, notices, review, tasks
from cases.services import cases as case_services
from cases.selectors.timeline import first_broken_link
from tests.factories import CaseFactory, ServiceFactory, case_in_stage

S = Case.Status
K = TimelineEvent.Kind

KIND_OF_ROLE = {
    "owner_manager": "manager",
    "other_manager": "manager",
    "member_responder": "responder",
    "outsider_responder": "responder",
    "comms": "comms",
    "admin": "admin",
    "customer": "customer",
}
ROLES = st.sampled_from(sorted(KIND_OF_ROLE))
STAFF_TARGETS = st.sampled_from(["owner_manager", "other_manager", "member_responder", "outsider_responder", "comms"])
TRANSITIONS = {
    # action -> (sources, target, managers only)
    "start_assessment": ({S.DETECTED}, S.ASSESSING, False),
    "start_diagnosis": ({S.ASSESSING}, S.DIAGNOSING, False),
    "stabilize": ({S.DIAGNOSING}, S.STABILIZING, False),
    "resume_diagnosis": ({S.STABILIZING}, S.DIAGNOSING, False),
    "close": ({S.STABILIZING}, S.CLOSED, True),
    "reopen": ({S.CLOSED}, S.DIAGNOSING, True),
    "dismiss": ({S.DETECTED, S.ASSESSING}, S.DISMISSED, False),
}
REFUSALS = (ActionRefused, NotAllowed, CaseChanged)


class LifecycleMachine(RuleBasedStateMachine):
    """Drive one fresh case per example; ``people`` (role -> user) is set by the test."""

    people: dict = {}

    # -- the model -------------------------------------------------------------------------------

    def is_member(self, role: str) -> bool:
        return role == self.owner or role in self.members

    def sees(self, role: str) -> bool:
        kind = KIND_OF_ROLE[role]
        if kind == "customer":
            return False
        if kind == "admin" or self.is_member(role):
            return True
        return not self.restricted and kind in ("manager", "comms")

    def works(self, role: str) -> bool:
        kind = KIND_OF_ROLE[role]
        return self.sees(role) and (kind in ("admin", "manager") or (kind == "responder" and self.is_member(role)))

    def manages(self, role: str) -> bool:
        return self.works(role) and KIND_OF_ROLE[role] in ("admin", "manager")

    # -- observing the database -------------------------------------------------------------------

    def fresh(self) -> Case:
        return Case.objects.get(pk=self.case.pk)

    def snapshot(self) -> dict:
        case = self.fresh()
        row = model_to_dict(case, exclude=["affected_services"])
        row.update(
            status=case.status,
            version=case.version,
            services=sorted(case.affected_services.values_list("pk", flat=True)),
            members=sorted(
                CaseUserObjectPermission.objects.filter(content_object=case).values_list("user_id", flat=True)
            ),
            tasks=list(Task.objects.filter(case=case).order_by("pk").values()),
            customers=list(AffectedCustomer.objects.filter(case=case).order_by("pk").values()),
            deadlines=list(Deadline.objects.filter(case=case).order_by("pk").values()),
            review=list(PostIncidentReview.objects.filter(case=case).values()),
        )
        return row

    def events(self) -> list[TimelineEvent]:
        return list(TimelineEvent.objects.filter(case=self.case).order_by("sequence"))

    def attempt(self, call, *, role, permitted: bool, kinds: tuple, records_refusal: bool = False, bumps: bool = False):
        """Run ``call``; check a refusal changed nothing and a success was permitted and recorded."""
        before, before_events = self.snapshot(), len(self.events())
        try:
            result = call()
        except REFUSALS as refusal:
            assert self.snapshot() == before, f"a refused {kinds} changed the case"
            new = [e.kind for e in self.events()[before_events:]]
            recorded = records_refusal and self.sees(role) and not isinstance(refusal, CaseChanged)
            assert new == ([K.REFUSED] if recorded else []), (role, refusal, new)
            return None
        assert permitted, f"{role} was allowed to do what their role does not allow: {kinds}"
        new = [e.kind for e in self.events()[before_events:]]
        assert tuple(new) in kinds, (kinds, new)
        if new:
            assert self.fresh().version == before["version"] + (1 if bumps else 0)
        return result

    # -- setup ------------------------------------------------------------------------------------

    @initialize(
        stage=st.sampled_from([S.DETECTED, S.ASSESSING, S.DIAGNOSING, S.STABILIZING, S.CLOSED, S.DISMISSED]),
        restricted=st.booleans(),
    )
    def open_a_case(self, stage, restricted):
        owner = self.people["owner_manager"]
        self.case = case_in_stage(stage, manager=owner, restricted=restricted)
        case_services.add_member(case=self.case, by=owner, user=self.people["member_responder"])
        self.original = CaseFactory(by=owner)
        self.owner = "owner_manager"
        self.members = {"owner_manager", "member_responder"}
        self.restricted = restricted
        self.version = self.fresh().version

    # -- rules ------------------------------------------------------------------------------------

    @rule(
        action=st.sampled_from(sorted(TRANSITIONS)),
        role=ROLES,
        note=st.sampled_from(["", "Because the logs say so."]),
        reason=st.sampled_from(["", *Case.DismissalReason.values]),
        name_original=st.booleans(),
        stale=st.booleans(),
    )
    def move(self, action, role, note, reason, name_original, stale):
        before = self.fresh()
        extra = {}
        if action == "dismiss":
            extra = {"reason": reason, "duplicate_of": self.original if name_original else None}
        sources, target, managers_only = TRANSITIONS[action]
        permitted = (self.manages(role) if managers_only else self.works(role)) and before.status in sources
        result = self.attempt(
            lambda: lifecycle.run_action(
                action_name=action, case=self.case, by=self.people[role], note=note,
                expected_version=before.version - 1 if stale else before.version, **extra,
            ),
            role=role, permitted=permitted, kinds=((K.TRANSITION,),), records_refusal=True, bumps=True,
        )
        if result is not None:
            after = self.fresh()
            assert (before.status, after.status) in {(source, target) for source in sources}
            assert self.events()[-1].data["action"] == action

    @rule(
        role=ROLES,
        severity=st.sampled_from(["", *Case.Severity.values]),
        scope=st.sampled_from(["", *Case.Scope.values]),
        with_service=st.booleans(),
        restricted=st.booleans(),
    )
    def edit_details(self, role, severity, scope, with_service, restricted):
        services = [ServiceFactory(name="Compute")] if with_service else []
        changes = {"severity": severity, "scope": scope, "restricted": restricted}
        permitted = self.works(role) and (restricted == self.restricted or self.manages(role))
        result = self.attempt(
            lambda: case_services.update_case_details(
                case=self.case, by=self.people[role], changes=changes, services=services
            ),
            role=role, permitted=permitted, kinds=((K.DETAILS_CHANGED,), ()), bumps=True,
        )
        if result is not None:
            self.restricted = restricted

    @rule(role=ROLES, new_owner=STAFF_TARGETS)
    def assign_owner(self, role, new_owner):
        permitted = self.works(role) and KIND_OF_ROLE[new_owner] != "comms"
        result = self.attempt(
            lambda: case_services.assign_owner(case=self.case, by=self.people[role], owner=self.people[new_owner]),
            role=role, permitted=permitted, kinds=((K.OWNER_CHANGED,), ()), bumps=True,
        )
        if result is not None:
            self.owner = new_owner
            self.members.add(new_owner)

    @rule(role=ROLES, person=STAFF_TARGETS, add=st.booleans())
    def change_members(self, role, person, add):
        by, user = self.people[role], self.people[person]
        if add:
            call, kind = (lambda: case_services.add_member(case=self.case, by=by, user=user)), K.MEMBER_ADDED
        else:
            call, kind = (lambda: case_services.remove_member(case=self.case, by=by, user=user)), K.MEMBER_REMOVED
        permitted = self.works(role) and (add or person != self.owner)
        if self.attempt(call, role=role, permitted=permitted, kinds=((kind,),)) is not None:
            (self.members.add if add else self.members.discard)(person)

    @rule(role=ROLES, mandatory=st.booleans())
    def add_task(self, role, mandatory):
        self.attempt(
            lambda: tasks.add_task(case=self.case, by=self.people[role], title="Rotate keys", mandatory=mandatory),
            role=role, permitted=self.works(role) and not (mandatory and self.fresh().status == S.CLOSED),
            kinds=((K.TASK_ADDED,),),
        )

    @rule(role=ROLES, pick=st.integers(min_value=0, max_value=5), done=st.booleans())
    def toggle_task(self, role, pick, done):
        open_or_done = list(Task.objects.filter(case=self.case, done_at__isnull=done).order_by("pk"))
        if not open_or_done:
            return
        task = open_or_done[pick % len(open_or_done)]
        by = self.people[role]
        call = (lambda: tasks.complete_task(task=task, by=by)) if done else (lambda: tasks.reopen_task(task=task, by=by))
        permitted = self.works(role) and (done or not (task.mandatory and self.fresh().status == S.CLOSED))
        self.attempt(call, role=role, permitted=permitted, kinds=((K.TASK_DONE if done else K.TASK_REOPENED,),))

    @rule(role=ROLES)
    def write_review(self, role):
        self.attempt(
            lambda: review.save_review(case=self.case, by=self.people[role], what_happened="x", what_went_wrong="y"),
            role=role, permitted=self.works(role), kinds=((K.REVIEW_SAVED,),),
        )

    @rule(role=ROLES)
    def approve_review(self, role):
        existing = PostIncidentReview.objects.filter(case=self.case).first()
        permitted = (
            self.sees(role)
            and (self.manages(role) or KIND_OF_ROLE[role] in ("comms", "manager", "admin"))
            and existing is not None
            and existing.author_id != self.people[role].pk
        )
        self.attempt(
            lambda: review.approve_review(case=self.case, by=self.people[role]),
            role=role, permitted=permitted, kinds=((K.REVIEW_APPROVED,),),
        )

    @rule(role=ROLES, org=st.sampled_from(["contoso", "fabrikam"]), disclosed=st.booleans())
    def add_affected_customer(self, role, org, disclosed):
        self.attempt(
            lambda: breach.add_affected_customer(
                case=self.case, by=self.people[role], organization=self.people[org], data_disclosed=disclosed
            ),
            role=role, permitted=self.works(role), kinds=((K.CUSTOMER_ADDED,),),
        )

    @rule(role=ROLES, note=st.sampled_from(["", "Objects were read across accounts."]))
    def declare_breach(self, role, note):
        self.attempt(
            lambda: breach.declare_breach(case=self.case, by=self.people[role], note=note),
            role=role, permitted=self.manages(role), kinds=((K.BREACH_DECLARED,),), records_refusal=True, bumps=True,
        )

    @rule(role=ROLES, pick=st.integers(min_value=0, max_value=1))
    def confirm_affected_customer(self, role, pick):
        rows = list(AffectedCustomer.objects.filter(case=self.case).order_by("pk"))
        if not rows:
            return
        row = rows[pick % len(rows)]
        permitted = (
            self.sees(role)
            and (self.manages(role) or KIND_OF_ROLE[role] in ("comms", "manager", "admin"))
            and row.confirmed_at is None
            and row.added_by_id != self.people[role].pk
        )
        self.attempt(
            lambda: breach.confirm_affected_customer(row=row, by=self.people[role]),
            role=role, permitted=permitted, kinds=((K.CUSTOMER_CONFIRMED,),),
        )

    @rule(pick=st.integers(min_value=0, max_value=1))
    def deliver_breach_notice(self, pick):
        # Only the notifications app stamps a delivered notice; no person records one.
        rows = list(AffectedCustomer.objects.filter(case=self.case).order_by("pk"))
        if not rows:
            return
        row = rows[pick % len(rows)]
        self.attempt(
            lambda: notices.record_customer_notified(row=row, how="email"),
            role="admin", permitted=True,
            kinds=((K.CUSTOMER_NOTIFIED,), (K.CUSTOMER_NOTIFIED, K.DEADLINE_MET), ()),
        )

    # -- invariants --------------------------------------------------------------------------------

    @invariant()
    def status_is_a_stage(self):
        assert self.fresh().status in S.values

    @invariant()
    def version_never_goes_down(self):
        version = self.fresh().version
        assert version >= self.version
        self.version = version

    @invariant()
    def a_closed_case_has_an_approved_review_and_no_open_mandatory_task(self):
        case = self.fresh()
        if case.status == S.CLOSED:
            assert PostIncidentReview.objects.get(case=case).is_approved
            assert not Task.objects.filter(case=case, mandatory=True, done_at__isnull=True).exists()
            assert case.closed_at is not None

    @invariant()
    def a_dismissed_case_says_why(self):
        case = self.fresh()
        if case.status == S.DISMISSED:
            assert case.dismissal_reason in Case.DismissalReason.values
            assert (case.dismissal_reason == Case.DismissalReason.DUPLICATE) == (case.duplicate_of_id is not None)

    @invariant()
    def a_declared_breach_has_its_customer_notice_deadline(self):
        case = self.fresh()
        assert (case.breach_declared_at is not None) == Deadline.objects.filter(
            case=case, kind=Deadline.Kind.CUSTOMER_NOTICE
        ).exists()

    @invariant()
    def the_timeline_chain_verifies(self):
        case = self.fresh()
        broken, count = first_broken_link(case)
        assert broken is None
        assert count == TimelineEvent.objects.filter(case=case).count()
        assert case.timeline_head == self.events()[-1].hash


@pytest.mark.django_db
def test_random_actions_by_random_people_keep_every_promise(
    responder, other_responder, manager, second_manager, comms, admin, contoso_user, contoso, fabrikam
):
    machine = type(
        "Machine",
        (LifecycleMachine,),
        {
            "people": {
                "owner_manager": manager,
                "other_manager": second_manager,
                "member_responder": responder,
                "outsider_responder": other_responder,
                "comms": comms,
                "admin": admin,
                "customer": contoso_user,
                "contoso": contoso,
                "fabrikam": fabrikam,
            }
        },
    )
    run_state_machine_as_test(
        machine,
        settings=hypothesis_settings(
            max_examples=25,
            stateful_step_count=15,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
