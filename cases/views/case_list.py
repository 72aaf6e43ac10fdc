"""The case list (open cases by default, filters that combine, sortable columns) and the managers' bulk actions."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from cases.access.permissions import can_open_cases, is_manager
from cases.forms.case_list import DEFAULT_SORT, BulkActionForm, CaseFilterForm
from cases.models.exceptions import ActionRefused, CaseChanged, NotAllowed
from cases.selectors import cases as selectors
from cases.services import cases as case_services
from cases.views.helpers import cleaned_or_messages, staff_required

PAGE_SIZE = 50

# The list's columns: heading and the sort key its heading offers (none: not sortable).
COLUMNS = [
    ("Reference", "reference"), ("Title", "title"), ("Stage", "stage"), ("Severity", "severity"),
    ("Owner", "owner"), ("Detected (UTC)", "detected"),
]


def may_bulk_edit(user) -> bool:
    """Return whether the user is offered bulk actions on the list (each case still checks its own permission)."""
    return user.is_superuser or is_manager(user)


@staff_required
def case_list(request):
    form = CaseFilterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {"stage": "open"}
    page = selectors.case_list_page(request.user, filters=filters, number=request.GET.get("page"), per_page=PAGE_SIZE)
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "cases/case_list.html", {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "columns": _columns(query, filters.get("sort") or DEFAULT_SORT),
        "can_open": can_open_cases(request.user),
        "bulk_form": BulkActionForm(user=request.user, initial={"next": query.urlencode()}, auto_id="bulk_%s") if may_bulk_edit(request.user) else None,
    })


def _columns(query: QueryDict, sort: str) -> list[dict]:
    """Return each column's heading with the link that sorts by it (reversing the current sort) and its aria-sort."""
    columns = []
    for label, key in COLUMNS:
        current = sort.lstrip("-") == key
        descending = sort.startswith("-")
        linked = query.copy()
        linked.pop("page", None)
        linked["sort"] = key if current and descending else f"-{key}" if current else key
        columns.append({
            "label": label,
            "href": "?" + linked.urlencode(),
            "aria_sort": ("descending" if descending else "ascending") if current else "none",
        })
    return columns


BULK_SERVICES = {
    BulkActionForm.ASSIGN_OWNER: ("owner assigned", lambda case, by, person: case_services.assign_owner(case=case, by=by, owner=person)),
    BulkActionForm.ADD_MEMBER: ("member added", lambda case, by, person: case_services.add_member(case=case, by=by, user=person)),
}


@staff_required
@require_POST
def bulk_action(request):
    """Run one action on each chosen case through its service: each its own permission check, timeline row and outcome."""
    if not may_bulk_edit(request.user):
        raise PermissionDenied("Only incident managers act on several cases at once.")
    data = cleaned_or_messages(request, BulkActionForm(request.POST, user=request.user))
    if data is None:
        return _back_to_list(request.POST.get("next", ""))
    done_words, service = BULK_SERVICES[data["action"]]
    done, failed = [], {}
    for case in data["cases"]:
        try:
            service(case, request.user, data["user"])
        except (ActionRefused, NotAllowed, CaseChanged) as exc:
            for reason in getattr(exc, "reasons", None) or [str(exc)]:
                failed.setdefault(reason, []).append(case.reference)
        else:
            done.append(case.reference)
    if done:
        messages.success(request, f"{data['user'].display_name}: {done_words} on {', '.join(done)}.")
    for reason, references in failed.items():
        messages.error(request, f"Not done on {', '.join(references)}: {reason}")
    return _back_to_list(data["next"])


def _back_to_list(next_query: str):
    """Redirect to the case list with the filters it was showing (only ever the list: never another URL)."""
    query = QueryDict(next_query or "", mutable=True)
    query.pop("page", None)
    return redirect(reverse("cases:list") + ("?" + query.urlencode() if query else ""))
