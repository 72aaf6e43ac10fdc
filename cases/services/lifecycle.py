"""Moving a case through its stages.

One function per action, each the same shape: lock the row, check the version the user saw,
check the transition permission and guard, call the django-fsm transition, save, write the
timeline event. A refusal rolls everything back and is then recorded on its own.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django_fsm import can_proceed, has_transition_perm

from cases import access
from cases.exceptions import ActionRefused, CaseChanged, NotAllowed
from cases.models import Case, TimelineEvent
from cases.services.timeline import append_event, lock_case, record_refusal

S = Case.Status


@dataclass(frozen=True)
class LifecycleAction:
    """How the UI offers a transition: its words, what it asks for, and who may do it."""

    name: str
    label: str
    sources: tuple[str, ...]
    blockers: Callable[[Case], list[str]] = lambda case: []
    managers_only: bool = False
    asks_for: tuple[str, ...] = ()
    confirm: str = ""
    danger: bool = False
    help: str = ""


ACTIONS: dict[str, LifecycleAction] = {
    action.name: action
    for action in [
        LifecycleAction(
            "start_assessment", "Start assessment", (S.DETECTED,), Case.start_assessment_blockers,
            help="Take the case on: the owner assesses impact and severity.",
        ),
        LifecycleAction(
            "start_diagnosis", "Start diagnosis", (S.ASSESSING,), Case.start_diagnosis_blockers,
            help="Confirmed security incident: start the technical and forensic investigation.",
        ),
        LifecycleAction(
            "stabilize", "Move to stabilize & recover", (S.DIAGNOSING,), asks_for=("note",),
            help="Say what contained the incident or how recovery starts.",
        ),
        LifecycleAction(
            "resume_diagnosis", "Back to diagnosing", (S.STABILIZING,), asks_for=("note",),
            help="New findings need more investigation.",
        ),
        LifecycleAction(
            "close", "Close case", (S.STABILIZING,), Case.close_blockers, managers_only=True,
            asks_for=("note",), confirm="Close this case? Customers see it as resolved.",
        ),
        LifecycleAction(
            "reopen", "Reopen", (S.CLOSED,), managers_only=True, asks_for=("note",),
            help="Give the reason for reopening.",
        ),
        LifecycleAction(
            "dismiss", "Dismiss", (S.DETECTED, S.ASSESSING), asks_for=("dismissal_reason", "note"), danger=True,
            help="False positive, not a security incident, the customer's responsibility, or a duplicate.",
        ),
    ]
}

NOTE_REQUIRED = {
    "stabilize": "Write a containment or recovery note: what stopped the harm, or how recovery starts.",
    "resume_diagnosis": "Say why the case goes back to diagnosing.",
    "close": "Write a closing note.",
    "reopen": "Give the reason for reopening.",
    "dismiss": "Write a note that explains the dismissal.",
}


@dataclass
class ActionState:
    action: LifecycleAction
    allowed: bool
    reasons: list[str] = field(default_factory=list)


def available_actions(case: Case, user) -> list[ActionState]:
    """Return the actions that apply to the case's stage, each allowed or with its blockers."""
    states = []
    for action in ACTIONS.values():
        if case.status not in action.sources:
            continue
        # Both kinds: a responder sees what is left before a manager can close, too.
        reasons = _permission_reasons(case, user, action) + action.blockers(case)
        states.append(ActionState(action, allowed=not reasons, reasons=reasons))
    return states


def role_permits(case: Case, user, action_name: str) -> bool:
    """Ask the transition's ``permission`` alone (``has_transition_perm`` also runs the guards)."""
    meta = getattr(case, action_name)._django_fsm
    return meta.has_transition_perm(case, meta.field.get_state(case), user)


def _permission_reasons(case: Case, user, action: LifecycleAction) -> list[str]:
    if role_permits(case, user, action.name):
        return []
    if action.managers_only:
        return [f"Only an incident manager working on this case can {action.label.lower()}."]
    return ["You can read this case but not change its stage; ask its owner to add you as a member."]


def _refusal_reasons(case: Case, action: LifecycleAction) -> list[str]:
    if case.status not in action.sources:
        allowed_from = " or ".join(Case.Status(s).label.lower() for s in action.sources)
        return [
            f"“{action.label}” is possible only while the case is {allowed_from}; "
            f"it is {case.get_status_display().lower()}."
        ]
    return action.blockers(case) or ["The case does not meet the conditions for this action."]


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
            if not access.can_view_case(by, locked):
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
            if action_name in NOTE_REQUIRED and not note:
                raise ActionRefused(NOTE_REQUIRED[action_name])
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
