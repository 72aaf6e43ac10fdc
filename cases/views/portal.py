"""The customer portal. Pages render only customer-visible models and the reader's own impact."""

import functools
from functools import wraps
from typing import NamedTuple

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Exists, Max, OuterRef, Q
from django.core.exceptions import PermissionDenied
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from cases.access.lookups import get_incident_for, get_incident_page_for
from cases.access.permissions import is_customer, is_customer_admin
from cases.access.querysets import customer_incidents
from cases.forms.questions import CustomerFileForm, QuestionForm
from cases.models import Acknowledgement, IncidentUpdate, Organization
from cases.models.communications import CustomerStatus, next_update_overdue
from cases.models.exceptions import ActionRefused, NotAllowed
from cases.selectors import portal as portal_selectors, reports
from cases.selectors.questions import portal_questions
from cases.services import customer_questions
from cases.services.breach import record_incident_page_view
from cases.services.communications import acknowledge
from cases.services.evidence_uploads import EvidenceUploadHandler, unreadable_upload
from cases.views.helpers import cleaned_or_messages
from cases.views.kept_pages import render_kept, response_csrf_token
from irt.near_cache import near_cache
from irt.sizes import byte_size


def _customers(view, *, admins_only: bool = False):
    """Let in customer users (only their organisation's administrators when ``admins_only``); staff go to their dashboard."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not is_customer(request.user):
            return redirect("cases:dashboard")
        if admins_only and not is_customer_admin(request.user):
            raise PermissionDenied("Only your organisation's administrators manage its settings.")
        return view(request, *args, **kwargs)

    return wrapper


def _customer_only(view):
    return _customers(view)


def customer_admin_only(view):
    """Let in the customer administrators; other customers get a 403, staff go to their dashboard."""
    return _customers(view, admins_only=True)


INDEX_PAGE_SIZE = portal_selectors.INDEX_PAGE_SIZE


@_customer_only
def index(request):
    """List the incidents affecting the reader's organisation, newest first, with their status, a page at a time.

    Most organisations have one page of incidents: one prepared query reads it and one row more,
    deciding access and the reader's acknowledgements on every request, and the page is kept per
    reader and those rows (``kept_pages``: a new incident, a withdrawn one, an update published or an
    acknowledgement changes them). Longer lists read their totals and the page's latest published
    updates, so the page costs the same number of queries at 26 incidents as at 150.
    """
    request.user.organization = portal_selectors.reader_organization(request.user)
    first = None
    if request.GET.get("page", "1") == "1":
        rows = portal_selectors.first_index_rows(request.user)
        first = [IndexCase(pk, reference, acknowledged) for pk, reference, _, _, acknowledged in rows]
        if len(first) <= INDEX_PAGE_SIZE:
            return render_kept(request, "portal/index.html", lambda: _one_page(request, first), parts=tuple(rows))
    incidents = (
        customer_incidents(request.user)
        .annotate(last_published=Max("updates__published_at"),
                  acknowledged=Exists(Acknowledgement.objects.filter(case=OuterRef("pk"), user=request.user)))
        .order_by("-last_published", "-pk")
    )
    totals = incidents.aggregate(total=Count("pk"), unacknowledged=Count("pk", filter=Q(acknowledged=False)))
    paginator = Paginator(incidents, INDEX_PAGE_SIZE)
    paginator.count = totals["total"]  # counted with the unacknowledged, in the same query
    page = paginator.get_page(request.GET.get("page"))
    cases = first[:INDEX_PAGE_SIZE] if first is not None and page.number == 1 else list(page.object_list)
    return render(request, "portal/index.html", {"organization": request.user.organization, "rows": _rows(cases), "page": page,
                                                 "unacknowledged": totals["unacknowledged"]})


def _rows(cases) -> list[dict]:
    """The index's rows: each case with its latest published update (read in one query for them all) and acknowledgement."""
    latest = {}
    for update in (IncidentUpdate.objects.published().filter(case__in=[case.pk for case in cases])
                   .order_by("case_id", "-published_at", "-id")):
        latest.setdefault(update.case_id, update)
    return [{"case": case, "latest": latest[case.pk], "acknowledged": case.acknowledged} for case in cases]


def _one_page(request, cases) -> dict:
    """Return the index's context for a one-page list of ``IndexCase``."""
    return {"organization": request.user.organization, "rows": _rows(cases), "page": Paginator(cases, INDEX_PAGE_SIZE).get_page(1),
            "unacknowledged": sum(not case.acknowledged for case in cases)}


class IndexCase(NamedTuple):
    """A listed incident as ``portal_selectors.first_index_rows`` reads it; the page shows its reference."""

    pk: int
    reference: str
    acknowledged: bool


@_customer_only
def incident(request, reference):
    """Show the incident page; its body and questions panel are rendered once per timeline head and organisation.

    Thousands of customers open the same page during a large breach. Every change to
    anything customer-visible (an update published, a question asked, a reply approved, a file
    received) appends a timeline event, which moves ``timeline_head``, so the cache key changes
    exactly when the content does. The key names the reader's organisation: what is kept for one
    organisation is never shown to another. Around them, the page is kept per reader as well
    (``kept_pages``), keyed by that entry, the acknowledgement and the overdue flag; access is decided
    by one query on every request before anything kept is read.
    """
    # One query decides access and reads the reader's acknowledgement (a prepared ``customer_incidents``).
    row = get_incident_page_for(request.user, reference)
    organization = request.user.organization = portal_selectors.reader_organization(request.user)
    viewed = f"portal:viewed:{row.pk}:{request.user.pk}"
    key = f"portal:incident-parts:{row.pk}:{organization.pk}:{row.timeline_head}"
    found = near_cache.get_many_fixed([viewed, key])  # a flag never unset, and a body whose key names its version
    cached = found.get(key)
    case = None
    # The first view is what exposure reports need; the cache remembers it is recorded, sparing a read per view.
    if not found.get(viewed):
        case = get_incident_for(request.user, reference)
        record_incident_page_view(case=case, user=request.user)
        transaction.on_commit(lambda: near_cache.set_fixed(viewed, True, VIEW_RECORDED_SECONDS))
    if cached is None:
        case = case or get_incident_for(request.user, reference)
        cached = _incident_body(case, Organization.objects.get(pk=organization.pk))
        near_cache.set_fixed(key, cached, BODY_CACHE_SECONDS)
    # Not cached with the body: the promised next update becomes overdue with time alone.
    overdue = next_update_overdue(cached["latest"].get("next_update_by"), now=timezone.now())
    context = {
        "reference": row.reference,
        "organization": organization,
        "latest": cached["latest"],
        "notified_at": cached.get("notified_at"),
        "next_update_overdue": overdue,
        "status_meanings": [(code, label, STATUS_MEANINGS[code]) for code, label in CustomerStatus.choices],
        "acknowledged_at": row.acknowledged_at,
        **{name: mark_safe(cached[name]) for name in KEPT_FIELDS_HTML},  # noqa: S308 - rendered by our own templates
        "max_upload_bytes": customer_questions.MAX_UPLOAD_BYTES,
    }
    # The page around them is kept per reader and version (``kept_pages``); the body, questions and files are filled in from
    # the organisation's entry above (kept once, not once per reader), the follow-up email choice is rendered per request.
    # notifications' template tag reads the request and the token; never the case itself. Rendered without the request,
    # so the context processors (roles, the inbox, messages), which the partial does not use, do not run for it.
    subscription = {"case_id": row.pk, "reference": row.reference, "request": request}
    return render_kept(request, "portal/incident.html", context,
                       parts=(key, row.reference, row.acknowledged_at, overdue), keep_slots=True,
                       slots={"subscription": lambda: render_to_string(
                                  SUBSCRIPTION_TEMPLATE, {**subscription, "csrf_token": response_csrf_token(request)}),
                              **{name: functools.partial(cached.__getitem__, field) for name, field in ORGANIZATION_SLOTS.items()}})


SUBSCRIPTION_TEMPLATE = "portal/partials/subscription.html"
BODY_CACHE_SECONDS = 600
# The kept parts of the page besides the body, rendered by ``_incident_body``: the organisation's own (filled into the
# reader's kept page on every request, by context name), and the always-empty form fields (kept in the reader's page).
ORGANIZATION_SLOTS = {"body": "html", "questions_html": "questions_html", "uploads_html": "uploads_html"}
KEPT_FIELDS_HTML = ("question_fields_html", "file_fields_html")
VIEW_RECORDED_SECONDS = 3600
# The times of the latest published update the page shows above its body.
INCIDENT_TIMES = ("impact_started_at", "detected_at", "impact_ended_at", "next_update_by")

# What each status word on an incident page means, by ``CustomerStatus`` code (templates test codes).
STATUS_MEANINGS = {
    CustomerStatus.INVESTIGATING: "We know something is wrong and are finding out what happened and who is affected.",
    CustomerStatus.IDENTIFIED: "We know the cause and what was affected, and are working to stop it and repair it.",
    CustomerStatus.MONITORING: "A fix is in place; we are watching to make sure it holds.",
    CustomerStatus.RESOLVED: "The incident is over. A post-incident review follows when there is something to learn.",
}


def _incident_body(case, organization) -> dict:
    # The same reads as the customer report: one privacy filter for the page, the PDF and the pack.
    context = reports.customer_report(case, organization)
    latest, impact = context["latest"], context["impact"]
    sent = {**portal_questions(case=case, organization=organization), "organization": organization}
    return {
        "html": render_to_string("portal/partials/incident_body.html", context),
        "questions_html": render_to_string("portal/partials/question_list.html", sent),
        "uploads_html": render_to_string("portal/partials/upload_list.html", sent),
        # The page's forms are never shown bound (a refused POST redirects with messages), so their fields are too.
        "question_fields_html": render_to_string("partials/form_fields.html", {"form": QuestionForm()}),
        "file_fields_html": render_to_string("partials/form_fields.html", {"form": CustomerFileForm()}),
        "latest": {
            "public_title": latest.public_title,
            "status": latest.status,
            "status_label": latest.get_status_display(),
            "published_at": latest.published_at,
            **{name: getattr(latest, name) for name in INCIDENT_TIMES},
        },
        # The organisation's own awareness time: a delivered breach notice starts its own clocks.
        "notified_at": impact.notified_at if impact is not None and impact.is_breach else None,
    }


@require_POST
@_customer_only
def acknowledge_incident(request, reference):
    case = get_incident_for(request.user, reference)
    acknowledge(case=case, user=request.user)
    messages.success(request, "Thank you: your acknowledgement is recorded.")
    return redirect("portal:incident", reference=case.reference)


def _questions_url(case) -> str:
    return reverse("portal:incident", args=[case.reference]) + "#questions-h"


def _refused(request, exc) -> None:
    for reason in exc.reasons:
        messages.error(request, reason)


@require_POST
@_customer_only
def ask_question(request, reference):
    """Send the reader's question to the incident's team (``cases.services.customer_questions``)."""
    case = get_incident_for(request.user, reference)
    data = cleaned_or_messages(request, QuestionForm(request.POST))
    if data is None:
        return redirect(_questions_url(case))
    try:
        customer_questions.ask_question(case=case, by=request.user, text=data["text"])
    except NotAllowed:
        return redirect("portal:index")
    except ActionRefused as exc:
        _refused(request, exc)
    else:
        messages.success(request, "Your question is with the response team. Their answer will appear here.")
    return redirect(_questions_url(case))


class CustomerUploadHandler(EvidenceUploadHandler):
    """The evidence upload handler with the customer file limit, refusing in the customer's terms."""

    def __init__(self, request=None):
        super().__init__(request, max_bytes=customer_questions.MAX_UPLOAD_BYTES)

    def _refuse(self) -> str:
        return f"The file is larger than the limit of {byte_size(self.max_bytes)}; nothing was stored. Split it and send the parts."


# The CSRF check runs in ``_receive_file``, once the streaming handler is installed (as on the evidence page).
@csrf_exempt
@require_POST
@_customer_only
def upload_file(request, reference):
    """Receive a file from the reader as evidence on the incident; access is decided before the body is read."""
    case = get_incident_for(request.user, reference)
    handler = CustomerUploadHandler(request)
    request.upload_handlers = [handler]
    try:
        request.POST  # noqa: B018 - parse here, with the handler, to answer a malformed body clearly
    except MultiPartParserError as exc:
        messages.error(request, unreadable_upload(exc))
        return redirect(_questions_url(case))
    return _receive_file(request, case, handler)


@csrf_protect
def _receive_file(request, case, handler):
    upload = request.FILES.get("file")
    try:
        if handler.refusal:
            messages.error(request, handler.refusal)
            return redirect(_questions_url(case))
        if cleaned_or_messages(request, CustomerFileForm(request.POST, request.FILES)) is None:
            return redirect(_questions_url(case))
        try:
            item = customer_questions.upload_file(case=case, by=request.user, content=upload,
                                                  original_name=getattr(upload, "original_name", upload.name))
        except NotAllowed:
            return redirect("portal:index")
        except ActionRefused as exc:
            _refused(request, exc)
        else:
            messages.success(request, f"{item.display_name} received ({item.size:,} bytes, SHA-256 {item.sha256}). "
                                      "The response team has it.")
        return redirect(_questions_url(case))
    finally:
        if upload is not None:
            # Removes the temporary file unless the storage already moved it into place.
            upload.close()
