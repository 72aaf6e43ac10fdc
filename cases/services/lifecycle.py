"""Moving a case through its stages.

One function per action, each the same shape: lock the row, check the version the user saw,
check the transition permission and guard, call the django-fsm transition, save, write the
timeline event. A refusal rolls everything back and is then recorded on its own.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django_fsm import can_proceed, has_transition_perm

from cases.access.permissions import can_view_case
from cases.models.exceptions import ActionRefused, CaseChanged, NotAllowed
from cases.models import Blocker, Case, TimelineEvent
from cases.models.blockers import codes
from cases.services.playbooks import enter_stage
from cases.services.timeline import append_event, lock_case, record_refusal

S = Case.Status
STATUS = Case._meta.get_field("status")


@dataclass(frozen=True)
class LifecycleAction:
    """How the UI offers one action: a view of its ``@transition`` and that transition's ``custom``."""

    name: str
    label: str
    sources: tuple[str, ...]
    target: str | None
    blockers: Callable[[Case], list[Blocker]] = lambda case: []
    managers_only: bool = False
    asks_for: tuple[str, ...] = ()
    confirm: str = ""
    danger: bool = False
    secondary: bool = False
    help: str = ""
    note_required: str = ""
    form: str = ""
    verb: str = ""
    once: str = ""

    def offered(self, case: Case) -> bool:
        """Return whether the action belongs to the case's current stage (and, if ``once``, was not done)."""
        return case.status in self.sources and not (self.once and getattr(case, self.once))


def _collect_actions() -> dict[str, LifecycleAction]:
    """Read every transition of ``Case.status`` from django-fsm's own list, in declaration order."""
    sources: dict[str, list] = {}
    transitions = {}
    # django-fsm lists methods by name; the order the model declares them is the order to offer them.
    for transition in sorted(STATUS.get_all_transitions(Case), key=lambda t: t.method.__code__.co_firstlineno):
        sources.setdefault(transition.name, []).append(transition.source)
        transitions.setdefault(transition.name, transition)
    actions = {}
    for name, transition in transitions.items():
        custom = dict(transition.custom)
        blockers = custom.pop("blockers", "")
        actions[name] = LifecycleAction(
            name=name,
            sources=tuple(sources[name]),
            target=transition.target,
            blockers=(lambda case, method=blockers: getattr(case, method)()) if blockers else (lambda case: []),
            asks_for=tuple(custom.pop("asks_for", ())),
            **custom,
        )
    return actions


# Every action the case page, the API and admin offer, from the @transition declarations.
LIFECYCLE: dict[str, LifecycleAction] = _collect_actions()
# The stage changes ``run_action`` executes; actions with their own page (declaring a breach) run
# through their own service.
ACTIONS: dict[str, LifecycleAction] = {name: action for name, action in LIFECYCLE.items() if not action.form}


@dataclass
class ActionState:
    action: LifecycleAction
    allowed: bool
    reasons: list[Blocker] = field(default_factory=list)

    @property
    def codes(self) -> set[str]:
        """The blocker codes, for templates (which test codes, never prose)."""
        return codes(self.reasons)


def available_actions(case: Case, user) -> list[ActionState]:
    """Return the actions that apply to the case's stage, each allowed or with its blockers."""
    states = []
    current = {transition.name for transition in case.get_all_status_transitions() if transition.source == case.status}
    for action in LIFECYCLE.values():
        if action.name not in current or not action.offered(case):
            continue
        # Both kinds: a responder sees what is left before a manager can close, too.
        reasons = _permission_reasons(case, user, action) + action.blockers(case)
        states.append(ActionState(action, allowed=not reasons, reasons=reasons))
    return states


def role_permits(case: Case, user, action_name: str) -> bool:
    """Ask the transition's ``permission`` alone (``has_transition_perm`` also runs the guards)."""
    return any(
        transition.name == action_name and transition.source == case.status and transition.has_perm(case, user)
        for transition in case.get_all_status_transitions()
    )


def _permission_reasons(case: Case, user, action: LifecycleAction) -> list[Blocker]:
    if role_permits(case, user, action.name):
        return []
    if action.managers_only:
        verb = action.verb or action.label.lower()
        return [Blocker("managers_only", f"Only an incident manager working on this case can {verb}.")]
    return [Blocker("read_only", "You can read this case but not change its stage; ask its owner to add you as a member.")]


def _refusal_reasons(case: Case, action: LifecycleAction) -> list[Blocker]:
    if case.status not in action.sources:
        allowed_from = " or ".join(Case.Status(s).label.lower() for s in action.sources)
        return [Blocker(
            "wrong_stage",
            f"“{action.label}” is possible only while the case is {allowed_from}; "
            f"it is {case.get_status_display().lower()}.",
        )]
    return action.blockers(case) or [Blocker("conditions", "The case does not meet the conditions for this action.")]


def _transition(
    *,
    case: Case,
    by,
    action_name: str,
    expected_version: int | None,
    note: str = "",
    kwargs: dict | None = None,
    data: dict | None = None,
    argument_blockers: Callable[[], list[str]] | None = None,
) -> Case:
    action = ACTIONS[action_name]
    note = (note or "").strip()
    try:
        with transaction.atomic():
            locked = lock_case(case)
            method = getattr(locked, action_name)
            if not can_view_case(by, locked):
                raise NotAllowed("You do not have access to this case.")
            # After the visibility check: CaseChanged names the case and its stage.
            if expected_version is not None and locked.version != expected_version:
                raise CaseChanged(locked)
            if locked.status not in action.sources:
                raise ActionRefused(_refusal_reasons(locked, action))
            if not role_permits(locked, by, action_name):
                raise NotAllowed(_permission_reasons(locked, by, action)[0])
            if not (can_proceed(method) and has_transition_perm(method, by)):
                raise ActionRefused(_refusal_reasons(locked, action))
            if action.note_required and not note:
                raise ActionRefused([Blocker("note_required", action.note_required)])
            # Checked after the permission so an outsider learns nothing, and inside the try so it is recorded.
            if argument_blockers and (reasons := argument_blockers()):
                raise ActionRefused(reasons)
            before = locked.status
            method(**(kwargs or {}))
            locked.version += 1
            locked.save()
            text = f"{Case.Status(before).label} → {locked.get_status_display()}"
            append_event(
                case=locked,
                actor=by,
                kind=TimelineEvent.Kind.TRANSITION,
                text=f"{text}. {note}" if note else text,
                data={"action": action_name, "from": before, "to": locked.status, "note": note, **(data or {})},
            )
            enter_stage(case=locked, by=by)
            return locked
    except (ActionRefused, NotAllowed) as refusal:
        reasons = getattr(refusal, "reasons", None) or [str(refusal)]
        record_refusal(case=case, actor=by, action=action.label, reasons=reasons)
        raise


def start_assessment(*, case: Case, by, expected_version: int | None = None, note: str = "") -> Case:
    return _transition(case=case, by=by, action_name="start_assessment", expected_version=expected_version, note=note)


def start_diagnosis(*, case: Case, by, expected_version: int | None = None, note: str = "") -> Case:
    return _transition(case=case, by=by, action_name="start_diagnosis", expected_version=expected_version, note=note)


def stabilize(*, case: Case, by, note: str, expected_version: int | None = None) -> Case:
    return _transition(case=case, by=by, action_name="stabilize", expected_version=expected_version, note=note)


def resume_diagnosis(*, case: Case, by, note: str, expected_version: int | None = None) -> Case:
    return _transition(case=case, by=by, action_name="resume_diagnosis", expected_version=expected_version, note=note)


def close_case(*, case: Case, by, note: str, expected_version: int | None = None) -> Case:
    return _transition(case=case, by=by, action_name="close", expected_version=expected_version, note=note)


def reopen_case(*, case: Case, by, note: str, expected_version: int | None = None) -> Case:
    return _transition(case=case, by=by, action_name="reopen", expected_version=expected_version, note=note)


def dismiss_case(
    *, case: Case, by, reason: str, note: str, duplicate_of: Case | None = None, expected_version: int | None = None
) -> Case:
    def argument_blockers() -> list[str]:
        if reason not in Case.DismissalReason.values:
            return ["Choose why the case is dismissed."]
        if reason == Case.DismissalReason.DUPLICATE and duplicate_of is None:
            return ["Name the case this one duplicates."]
        if duplicate_of is not None and duplicate_of.pk == case.pk:
            return ["A case cannot duplicate itself."]
        return []

    original = duplicate_of if reason == Case.DismissalReason.DUPLICATE else None
    return _transition(
        case=case,
        by=by,
        action_name="dismiss",
        expected_version=expected_version,
        note=note,
        kwargs={"reason": reason, "duplicate_of": original},
        data={"reason": reason, "duplicate_of": original.reference if original else None},
        argument_blockers=argument_blockers,
    )


def run_action(*, action_name: str, case: Case, by, note: str = "", expected_version: int | None = None, **extra) -> Case:
    """Dispatch an action by name: the single entry point for views, admin and commands."""
    runners = {
        "start_assessment": start_assessment,
        "start_diagnosis": start_diagnosis,
        "stabilize": stabilize,
        "resume_diagnosis": resume_diagnosis,
        "close": close_case,
        "reopen": reopen_case,
        "dismiss": dismiss_case,
    }
    if action_name not in runners:
        raise ActionRefused(f"There is no action called {action_name!r}.")
    return runners[action_name](case=case, by=by, note=note, expected_version=expected_version, **extra)
