"""Opening cases, editing their details, owners and members."""

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from cases.access.permissions import MEMBER_PERMISSION, can_manage_case, can_open_cases, can_own_cases, is_staff_user
from cases.services import signals
from cases.models.exceptions import ActionRefused, NotAllowed
from cases.models import Case, CaseUserObjectPermission, ReferenceCounter, TimelineEvent
from cases.services.communications import check_impact_window
from cases.services.playbooks import apply_to_locked_case, suggest_playbook
from cases.services.timeline import append_event, lock_for_work


def next_reference(year: int) -> str:
    """Return the next ``IRT-<year>-<number>``; the counter's row lock serialises concurrent callers."""
    counter, _ = ReferenceCounter.objects.get_or_create(year=year)
    ReferenceCounter.objects.filter(pk=counter.pk).update(last_number=F("last_number") + 1)
    counter.refresh_from_db(fields=["last_number"])
    return f"IRT-{year}-{counter.last_number:04d}"


def _ensure_may_own(owner) -> None:
    """Refuse an owner who cannot own cases; ``None`` (nobody on point) is always allowed."""
    if owner is not None and not can_own_cases(owner):
        raise ActionRefused(f"{owner.display_name} cannot own a case: owners are responders or incident managers.")


@transaction.atomic
def open_case(
    *,
    by,
    title: str,
    source: str,
    internal_summary: str = "",
    severity: str = "",
    detected_at=None,
    owner=None,
    services=(),
    restricted: bool = False,
    playbook_version=None,
) -> Case:
    """Open a case; apply ``playbook_version``, or the best-matching playbook when it applies itself."""
    if not can_open_cases(by):
        raise NotAllowed("Only responders and incident managers open cases.")
    _ensure_may_own(owner)
    detected_at = detected_at or timezone.now()
    case = Case.objects.create(
        reference=next_reference(detected_at.year),
        title=title.strip(),
        source=source,
        internal_summary=internal_summary,
        severity=severity,
        detected_at=detected_at,
        owner=owner,
        restricted=restricted,
        created_by=by,
    )
    case.affected_services.set(services)
    # The opener stays on the case so a restricted case never locks out the person who opened it.
    assign_perm(MEMBER_PERMISSION, by, case)
    if owner is not None and owner != by:
        assign_perm(MEMBER_PERMISSION, owner, case)
    append_event(
        case=case, actor=by, kind=TimelineEvent.Kind.OPENED,
        text=f"Opened from {case.get_source_display().lower()}: {case.title}",
        data={"owner": owner.get_username() if owner else None, "severity": severity, "restricted": restricted},
    )
    if playbook_version is None and (suggested := suggest_playbook(case)) and suggested.playbook.auto_apply:
        playbook_version = suggested
    if playbook_version is not None:
        apply_to_locked_case(case=case, version=playbook_version, by=by)
    signals.case_opened.send(sender=Case, case=case, by=by)
    return case


DETAIL_FIELDS = (
    "title", "internal_summary", "source", "severity", "classification", "breach_category", "scope", "restricted",
    "impact_started_at", "impact_ended_at",
)


@transaction.atomic
def update_case_details(*, case: Case, by, changes: dict, services=None, expected_version: int | None = None) -> Case:
    """Apply edits to descriptive fields; the timeline records each old and new value."""
    locked = lock_for_work(case, by, expected_version=expected_version)
    unknown = set(changes) - set(DETAIL_FIELDS)
    if unknown:
        raise ActionRefused(f"These fields cannot be edited here: {', '.join(sorted(unknown))}.")
    if "restricted" in changes and changes["restricted"] != locked.restricted and not can_manage_case(locked, by):
        raise NotAllowed("Only an incident manager can change whether a case is restricted.")
    if {"impact_started_at", "impact_ended_at"} & set(changes):
        check_impact_window(started=changes.get("impact_started_at", locked.impact_started_at),
                            ended=changes.get("impact_ended_at", locked.impact_ended_at))
    diff = {}
    for name, value in changes.items():
        old = getattr(locked, name)
        if old != value:
            diff[name] = {"from": old, "to": value}
            setattr(locked, name, value)
    if services is not None:
        old_services = sorted(locked.affected_services.values_list("name", flat=True))
        new_services = sorted(s.name for s in services)
        if old_services != new_services:
            locked.affected_services.set(services)
            diff["affected_services"] = {"from": old_services, "to": new_services}
    if not diff:
        return locked
    locked.version += 1
    locked.save(update_fields=[*(name for name in diff if name != "affected_services"), "version", "updated_at"])
    append_event(
        case=locked, actor=by, kind=TimelineEvent.Kind.DETAILS_CHANGED,
        text="Changed " + ", ".join(Case._meta.get_field(name).verbose_name if name != "affected_services" else "affected services" for name in diff) + ".",
        data=diff,
    )
    return locked


@transaction.atomic
def assign_owner(*, case: Case, by, owner, expected_version: int | None = None) -> Case:
    locked = lock_for_work(case, by, expected_version=expected_version)
    _ensure_may_own(owner)
    if locked.owner_id == (owner.pk if owner else None):
        return locked
    previous = locked.owner
    locked.owner = owner
    locked.version += 1
    locked.save(update_fields=["owner", "version", "updated_at"])
    if owner is not None:
        assign_perm(MEMBER_PERMISSION, owner, locked)
    append_event(
        case=locked, actor=by, kind=TimelineEvent.Kind.OWNER_CHANGED,
        text=f"Owner: {previous.display_name if previous else 'nobody'} → {owner.display_name if owner else 'nobody'}.",
        data={"from": previous.get_username() if previous else None, "to": owner.get_username() if owner else None},
    )
    signals.case_owner_assigned.send(sender=Case, case=locked, owner=owner, by=by)
    return locked


@transaction.atomic
def add_member(*, case: Case, by, user) -> Case:
    locked = lock_for_work(case, by)
    if not is_staff_user(user):
        raise ActionRefused(f"{user.display_name} is not on the response team; only staff can be members.")
    if user.pk in locked.member_ids():
        raise ActionRefused(f"{user.display_name} is already a member.")
    assign_perm(MEMBER_PERMISSION, user, locked)
    append_event(
        case=locked, actor=by, kind=TimelineEvent.Kind.MEMBER_ADDED,
        text=f"Added {user.display_name} as a member.", data={"user": user.get_username()},
    )
    signals.case_member_added.send(sender=Case, case=locked, user=user, by=by)
    return locked


@transaction.atomic
def remove_member(*, case: Case, by, user) -> Case:
    locked = lock_for_work(case, by)
    if user.pk == locked.owner_id:
        raise ActionRefused("The owner cannot be removed; assign another owner first.")
    if user.pk not in locked.member_ids():
        raise ActionRefused(f"{user.display_name} is not a member.")
    remove_perm(MEMBER_PERMISSION, user, locked)
    append_event(
        case=locked, actor=by, kind=TimelineEvent.Kind.MEMBER_REMOVED,
        text=f"Removed {user.display_name} from the members.", data={"user": user.get_username()},
    )
    return locked


def members_of(case: Case):
    """Return the case's members with their user rows, in one query."""
    return [
        row.user
        for row in CaseUserObjectPermission.objects.filter(
            content_object=case, permission__codename=MEMBER_PERMISSION
        ).select_related("user").order_by("user__username")
    ]

