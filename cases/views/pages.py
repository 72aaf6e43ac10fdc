"""Staff pages: new case, case detail and details edit."""

import functools
from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_http_methods

from cases.access.permissions import (
    can_approve_case_text, can_manage_case, can_open_cases, can_own_cases, can_see_deliveries, can_work_on_case, is_member,
)

from cases.access.lookups import get_case_for, get_case_for_drafts
from cases.selectors import approvals
from cases.selectors import cases as selectors
from cases.selectors.case_page import references_stamp
from cases.models import Case, RepairItem
from cases.forms.case_page import CasePageForm
from cases.forms.cases import (
    AffectedCustomerForm,
    CaseDetailsForm,
    CaseOpenForm,
    DelayRequestForm,
    MemberForm,
    NoteForm,
    OutOfBandNoticeForm,
    OwnerForm,
    RepairItemForm,
    ReviewForm,
    TaskForm,
    TransitionForm,
    read_choices_once,
)
from cases.services import cases as case_services
from cases.services import playbooks as playbook_services
from cases.services.lifecycle import available_actions
from cases.services.review import save_review
from cases.views.helpers import run_service, staff_required
from cases.views.kept_pages import STAFF_NAVIGATION_VALUES, render_kept, render_slot, slot_marker
from cases.views import clocks as clock_views
from cases.views import playbooks as playbook_views

@staff_required
@require_http_methods(["GET", "POST"])
def case_new(request):
    if not can_open_cases(request.user):
        raise PermissionDenied("Only responders and incident managers open cases.")
    # Whoever opens a case is on point unless they say otherwise (when they may own cases at all).
    form = CaseOpenForm(request.POST or None, initial={"owner": request.user.pk} if can_own_cases(request.user) else {})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        case = run_service(
            request,
            case_services.open_case,
            success="",
            by=request.user,
            title=data["title"],
            source=data["source"],
            internal_summary=data["internal_summary"],
            severity=data["severity"],
            detected_at=data["detected_at"],
            owner=data["owner"],
            services=data["services"],
            restricted=data["restricted"],
            playbook_version=data["playbook"],
        )
        if case:
            messages.success(request, f"{case.reference} opened.")
            return redirect(case)
    return render(request, "cases/case_new.html", {"form": form}, status=400 if form.errors else 200)


def _linked(query, **changes) -> str:
    """Return the query string of the case page with ``changes`` applied (None removes a parameter)."""
    linked = query.copy()
    for name, value in changes.items():
        linked.pop(name, None)
        if value is not None:
            linked[name] = value
    return "?" + linked.urlencode() if linked else "?"


CASE_PAGE = "cases/case_detail.html"
# What on the case page changes without the case: rendered on every request into the kept page (``kept_pages``).
# The alert panel: alerts arrive in a linked group and other cases share its observables without touching this case.
# The notices' fan-out and each organisation's receipts: deliveries end delivered or dead in the workers, and customers
# acknowledge, without touching the case either.
CASE_PAGE_SLOTS = {
    "alerts_slot": "cases/partials/case_alerts_slot.html",
    "notice_progress_slot": "cases/partials/case_notice_progress_slot.html",
}


@staff_required
def case_detail(request, reference):
    """Show the case; the page is kept per reader and version of everything it shows (``kept_pages``).

    Access is decided first, on every request. The key then names the case's row as read (its
    ``version``, ``timeline_head`` and every other column: every service that changes what the page
    shows either appends to the timeline or saves the row), the reader and everything their rights on
    the page come from, the query string, and the stamp of the people, organisations, services and
    playbooks the page names (``selectors.case_page``). What changes without the case is a slot
    rendered per request (``CASE_PAGE_SLOTS``, the receipts per organisation); what changes with time
    alone (overdue tasks and clocks, a clock's time left) ends the kept copy when it changes.
    """
    case = get_case_for(request.user, reference)
    user = request.user
    rights = {
        "can_work": can_work_on_case(case, user),
        "can_manage": can_manage_case(case, user),
        "can_approve": can_approve_case_text(case, user),
    }
    # The timeline's filters and the windows' cursors: anything a form refuses shows the newest, unfiltered windows.
    page_form = CasePageForm(request.GET, auto_id="timeline-%s")  # ids of its own: other forms on the page have a "kind" too
    valid = page_form.is_valid()
    shown, query = (page_form.cleaned_data, request.GET) if valid else ({}, QueryDict())
    reader = (
        ("staff reader", user.pk, user.username, user.get_full_name(), user.is_active, user.is_superuser, user.is_staff,
         user.is_verified(), tuple(sorted(user.get_all_permissions()))),
        ("on the case", is_member(user, case), tuple(sorted(rights.items()))),
    )
    parts = (
        ("case", tuple((field.attname, getattr(case, field.attname)) for field in Case._meta.concrete_fields)),
        ("query", sorted(request.GET.lists())),
        ("references", references_stamp()),
    )
    receipts = _NoticeStatus(request, case)
    return render_kept(
        request, CASE_PAGE, lambda: _case_page_context(case, user, page_form, shown, query, rights, receipts.marker),
        parts=parts, reader=reader, navigation_values=STAFF_NAVIGATION_VALUES, fresh_until=_fresh_until, keep=valid,
        keep_slots=True,  # alerts, deliveries, receipts and acknowledgements: nothing in them moves with time alone
        slots={**{name: functools.partial(render_slot, request, template, {"case": case})
                  for name, template in CASE_PAGE_SLOTS.items()},
               "notice_status": receipts.fill},
        status=200 if valid else 400,
    )


def _case_page_context(case, user, page_form, shown: dict, query, rights: dict, notice_status) -> dict:
    """Return what the case page shows (``notice_status(row)``: the marker of the row's receipts, filled per request)."""
    case = selectors.case_page(case)
    timeline = selectors.timeline_window(case, kind=shown.get("kind", ""), actor=shown.get("actor", ""), before=shown.get("before"))
    tasks = selectors.task_panel(case, after=shown.get("tasks_after"))
    members = case_services.members_of(case)
    case._member_ids = {member.pk for member in members}
    for row in case.affected_customers.all():
        row.notice_status = notice_status(row)
    version = {"version": case.version}
    member_form, task_form, customer_form = MemberForm(), TaskForm(), AffectedCustomerForm()
    read_choices_once(member_form.fields["user"], task_form.fields["assignee"])
    # Only the organisations not on the case yet: the others cannot be added twice.
    customer_form.offer_only_organizations_not_in([row.organization_id for row in case.affected_customers.all()])
    return {
        "case": case,
        "timeline": timeline,
        "timeline_form": page_form,
        "timeline_filtered": bool(shown.get("kind") or shown.get("actor")),
        "timeline_older_url": _linked(query, before=timeline.older) if timeline.older else None,
        "timeline_newest_url": _linked(query, before=None) if shown.get("before") else None,
        "timeline_clear_url": _linked(query, kind=None, actor=None, before=None),
        "task_panel": tasks,
        "tasks_more_url": _linked(query, tasks_after=tasks.more_open_after) if tasks.more_open_after else None,
        "tasks_first_url": _linked(query, tasks_after=None) if shown.get("tasks_after") else None,
        "task_done_history_url": _linked(query, kind="task_done", actor=None, before=None),
        "members": members,
        "can_work": rights["can_work"],
        "can_manage": rights["can_manage"],
        "can_approve_review": rights["can_approve"],
        "actions": available_actions(case, user),
        "breach_notice": approvals.breach_notice_step(case),
        "stages": _stage_bar(case),
        "transition_form": TransitionForm(initial=version),
        "owner_form": OwnerForm(initial={**version, "owner": case.owner_id}),
        "member_form": member_form,
        "note_form": NoteForm(),
        "task_form": task_form,
        "customer_form": customer_form,
        "can_confirm_customers": rights["can_approve"],
        "notice_form": OutOfBandNoticeForm(),
        "delay_form": DelayRequestForm(),
        "review": getattr(case, "review", None),
        "repair_form": RepairItemForm(),
        "repair_statuses": RepairItem.Status.choices,
        **playbook_views.case_panel_context(case),
        **clock_views.case_panel_context(case),
    }


def _fresh_until(context: dict, started):
    """Return when the page first changes with time alone after ``started``: an open task or a running clock falls due, or
    a clock's time left moves (``time_left`` counts whole minutes to or past the due time, so it moves on each minute
    boundary counted from it). A moment already past changes nothing more: what is overdue stays overdue.
    """
    moments = [task.due_at for task in context["task_panel"].open_tasks if task.due_at and task.due_at > started]
    for row in context["clocks"]:
        if not row.clock.met_at:
            moments.append(row.clock.due_at)
            moments.append(started + timedelta(seconds=(row.clock.due_at - started).total_seconds() % 60 or 60))
    return min((moment for moment in moments if moment > started), default=None)


class _NoticeStatus:
    """Each affected organisation's notice receipts and acknowledgements, read once per request when the page shows any."""

    TEMPLATE = "cases/partials/notice_receipts.html"

    def __init__(self, request, case):
        self.request, self.case, self.rows = request, case, None

    @staticmethod
    def marker(row) -> str:
        return slot_marker("notice_status", row.pk)

    def fill(self, row_pk: str) -> str:
        if self.rows is None:
            self.rows = {str(row.pk): row for row in approvals.notice_status(self.case)}
        row = self.rows.get(row_pk)
        if row is None or not row.receipts:
            return ""
        context = {"row": row, "case": self.case, "viewer_sees_deliveries": can_see_deliveries(self.request.user)}
        return render_slot(self.request, self.TEMPLATE, context)


def _changed_since(case, seen_version: int) -> str:
    """Return what changed on the case since the version the person saw: its newest timeline entries (at most five)."""
    events = list(case.timeline.select_related("actor").order_by("-sequence")[:max(1, min(case.version - seen_version, 5))])
    what = "; ".join(
        f"{event.actor.display_name if event.actor else event.actor_name or 'IRT'}: {event.text or event.get_kind_display()}"
        f" ({event.at:%H:%M} UTC)"
        for event in reversed(events)
    )
    return (f"{case.reference} changed while you were editing it. {what}. "
            "Your text is kept below, unsaved: check it against the case and save again.")


def _details_initial(case) -> dict:
    return {
        "version": case.version,
        "title": case.title,
        "source": case.source,
        "severity": case.severity,
        "classification": case.classification,
        "breach_category": case.breach_category,
        "scope": case.scope,
        "services": list(case.affected_services.all()),
        "internal_summary": case.internal_summary,
        "restricted": case.restricted,
        "impact_started_at": case.impact_started_at,
        "impact_ended_at": case.impact_ended_at,
    }


@staff_required
@require_http_methods(["GET", "POST"])
def case_edit(request, reference):
    case = get_case_for(request.user, reference, write=True)
    form = CaseDetailsForm(request.POST or None, initial=_details_initial(case))
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid() and form.cleaned_data["version"] != case.version:
            # Someone else saved first: say what they did and keep what this person typed, on the current version.
            messages.error(request, _changed_since(case, form.cleaned_data["version"]))
            data = request.POST.copy()
            data["version"] = case.version
            form = CaseDetailsForm(data, initial=_details_initial(case))
            status = 409
        elif form.is_valid():
            data = dict(form.cleaned_data)
            version = data.pop("version")
            services = data.pop("services")
            if run_service(
                request, case_services.update_case_details, success="Details saved.",
                case=case, by=request.user, changes=data, services=services, expected_version=version,
            ):
                return redirect(case)
            # Refused or stale: show the case as it is now, so the user edits the current state.
            case.refresh_from_db()
            form = CaseDetailsForm(initial=_details_initial(case))
            status = 409
    context = {"case": case, "form": form, "can_manage": can_manage_case(case, request.user)}
    return render(request, "cases/case_edit.html", context, status=status)


@staff_required
@require_http_methods(["GET", "POST"])
def review_edit(request, reference):
    case = get_case_for(request.user, reference, write=True)
    review = getattr(case, "review", None)
    initial = (
        {"what_happened": review.what_happened, "what_went_wrong": review.what_went_wrong, "how_we_responded": review.how_we_responded}
        if review
        else {}
    )
    form = ReviewForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        if run_service(request, save_review, success="Review saved.", case=case, by=request.user, **form.cleaned_data):
            return redirect(case)
    return render(request, "cases/review_edit.html", {"case": case, "form": form, "review": review,
                                                      "playbook_deviations": list(playbook_services.deviations(case))},
                  status=400 if request.method == "POST" else 200)


@staff_required
def review_read(request, reference):
    """Show the internal post-incident review in full to who writes it and who approves it, with the approve button."""
    case = get_case_for_drafts(request.user, reference)
    review = getattr(case, "review", None)
    if review is None:
        raise Http404("This case has no post-incident review yet.")
    return render(request, "cases/review_read.html", {
        "case": case, "review": review, "can_work": can_work_on_case(case, request.user),
        "can_approve": not review.is_approved and can_approve_case_text(case, request.user) and not review.made_by(request.user),
        "playbook_deviations": list(playbook_services.deviations(case)),
    })


def _stage_bar(case):
    """Return the main path's stages with whether each is done, current or ahead."""
    S = Case.Status
    path = [S.DETECTED, S.ASSESSING, S.DIAGNOSING, S.STABILIZING, S.CLOSED]
    dismissed = case.status == S.DISMISSED
    if dismissed:
        reached = path.index(S.ASSESSING) if case.assessed_at or case.owner_id else 0
    else:
        reached = path.index(case.status)
    return [
        {"label": status.label, "state": "done" if i < reached else "current" if i == reached and not dismissed else "ahead"}
        for i, status in enumerate(path)
    ]
