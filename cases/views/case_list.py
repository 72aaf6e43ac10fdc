"""The case list (open cases by default, filters that combine, sortable columns) and the managers' bulk actions."""

from urllib.parse import quote

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from cases.access.permissions import can_open_cases, is_manager
from cases.forms.case_list import DEFAULT_SORT, BulkActionForm, CaseFilterForm
from cases.models.exceptions import ActionRefused, CaseChanged, NotAllowed
from cases.selectors import cases as selectors
from cases.selectors.case_page import references_stamp
from cases.services import cases as case_services
from cases.views.helpers import cleaned_or_messages, staff_required
from cases.views.kept_pages import STAFF_NAVIGATION_VALUES, render_kept

PAGE_SIZE = 50

# The list's columns: heading and the sort key its heading offers (none: not sortable).
COLUMNS = [
    ("Reference", "reference"), ("Title", "title"), ("Stage", "stage"), ("Severity", "severity"),
    ("Owner", "owner"), ("Detected (UTC)", "detected"),
]


def may_bulk_edit(user) -> bool:
    """Return whether the user is offered bulk actions on the list (each case still checks its own permission)."""
    return user.is_superuser or is_manager(user)


CASE_LIST = "cases/case_list.html"


@staff_required
def case_list(request):
    """List the cases the reader may know; the page is kept per reader and version of what it shows (``kept_pages``).

    Access is decided first, on every request: the page's ids come from ``visible_cases`` each time.
    The key then names the reader and everything their rights on the page come from, the query
    string, the total and the page's position, every listed row as read (``LIST_ROW_FIELDS``: each
    shown column, and ``version`` and ``timeline_head``, which every service that changes a case
    moves; and its owner's names), and the stamp of the people the page names (the owners and the bulk
    person picker: ``selectors.case_page``). The CSRF token is filled in per request.
    """
    user = request.user
    form = CaseFilterForm(request.GET)
    valid = form.is_valid()
    filters = form.cleaned_data if valid else {"stage": "open"}
    page = selectors.case_list_page(user, filters=filters, number=request.GET.get("page"), per_page=PAGE_SIZE)
    query = request.GET.copy()
    query.pop("page", None)
    rights = {"can_open": can_open_cases(user), "may_bulk_edit": may_bulk_edit(user)}
    reader = (
        ("staff reader", user.pk, user.username, user.get_full_name(), user.is_active, user.is_superuser, user.is_staff,
         user.is_verified(), tuple(sorted(user.get_all_permissions()))),
        ("rights", tuple(sorted(rights.items()))),
    )
    parts = (
        ("query", sorted(request.GET.lists())),
        ("position", page.paginator.count, page.paginator.per_page, page.number, page.paginator.num_pages),
        ("rows", tuple(page.object_list)),
        ("references", references_stamp()),
    )
    # A form the query string fails shows its errors: rendered whole, as it always was, and never kept.
    return render_kept(
        request, CASE_LIST, lambda: _case_list_context(user, form, page, query, filters, rights),
        parts=parts, reader=reader, navigation_values=STAFF_NAVIGATION_VALUES, keep=valid,
    )


def _case_list_context(user, form, page, query: QueryDict, filters: dict, rights: dict) -> dict:
    """Return what the case list shows; each row's link is built from one reversed URL, not reversed per row."""
    page.object_list = selectors.list_cases(page.object_list)
    head, _, tail = reverse("cases:detail", args=["REFERENCE"]).partition("REFERENCE")
    for case in page.object_list:
        # As ``reverse`` quotes an argument of the path (``django.urls.resolvers``).
        case.url = head + quote(case.reference, safe="!$&'()*+,;=/~:@") + tail
    return {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "columns": _columns(query, filters.get("sort") or DEFAULT_SORT),
        "can_open": rights["can_open"],
        "bulk_form": BulkActionForm(user=user, initial={"next": query.urlencode()}, auto_id="bulk_%s") if rights["may_bulk_edit"] else None,
    }


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
