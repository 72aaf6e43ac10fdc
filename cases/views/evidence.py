"""Evidence pages: list and upload, download, verify, supersede, export and the case's legal hold.

Customers get a 404 on every one of these URLs (they may not learn evidence exists). Each
touch goes through a service in ``cases.services.evidence`` that writes the custody record
before any byte leaves the server.
"""

from collections import defaultdict
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse, StreamingHttpResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from cases.access.permissions import can_manage_case, can_work_on_case, is_customer

from cases.access.lookups import get_case_for
from cases.forms.evidence import EvidenceUploadForm, LegalHoldForm, SupersedeForm
from cases.services.evidence_streams import attachment_disposition, verified_stream, zip_stream
from cases.models.exceptions import ActionRefused
from cases.models import Evidence, EvidenceAccess
from cases.models.evidence import evidence_storage
from cases.services import evidence as evidence_services
from cases.services import legal_hold as legal_hold_services
from cases.services import security_log
from cases.services.timeline import record_refusal
from cases.services.evidence_uploads import EvidenceUploadHandler, unreadable_upload
from cases.views.helpers import run_service, staff_required, submit_form


def evidence_staff_only(view):
    """Like ``staff_required``, but a customer gets a 404 rather than a redirect to the portal."""
    staff_view = staff_required(view)

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if is_customer(request.user):
            raise Http404("No such page.")
        return staff_view(request, *args, **kwargs)

    return wrapper


def _list_url(case) -> str:
    return reverse("evidence:list", args=[case.reference])


def _wants_json(request) -> bool:
    return request.headers.get("X-Requested-With") == "XMLHttpRequest"


# The CSRF check runs in ``_evidence_page``, after the streaming upload handler is installed:
# CsrfViewMiddleware would otherwise read the body with the default handlers first.
@csrf_exempt
@evidence_staff_only
@require_http_methods(["GET", "POST"])
def evidence_list(request, reference):
    # Permission is decided before a byte of the body is read.
    case = get_case_for(request.user, reference, write=request.method == "POST")
    handler = None
    if request.method == "POST":
        handler = EvidenceUploadHandler(request)
        request.upload_handlers = [handler]
        try:
            request.POST  # noqa: B018 - parse here, with the handler, to answer a malformed body clearly
        except MultiPartParserError as exc:
            error = unreadable_upload(exc)
            if _wants_json(request):
                return JsonResponse({"errors": [error]}, status=400)
            messages.error(request, error)
            return redirect(_list_url(case))
    return _evidence_page(request, case, handler)


@csrf_protect
def _evidence_page(request, case, handler):
    form = EvidenceUploadForm()
    status = 200
    if request.method == "POST":
        upload = None
        try:
            form = EvidenceUploadForm(request.POST, request.FILES)
            upload = request.FILES.get("file")
            errors = _upload(request, case, form, handler, upload)
        finally:
            if upload is not None:
                # Removes the temporary file unless the storage already moved it into place.
                upload.close()
        if not errors:
            if _wants_json(request):
                return JsonResponse({"location": _list_url(case)})
            return redirect(_list_url(case))
        status = 413 if handler.refusal else 400
        if _wants_json(request):
            return JsonResponse({"errors": errors}, status=status)
        for error in errors:
            messages.error(request, error)
    return render(request, "cases/evidence_list.html", _page_context(request, case, form), status=status)


def _upload(request, case, form, handler, upload) -> list[str]:
    """Validate and store the upload; return the reasons it was refused, if it was."""
    if handler.refusal:
        reasons = [handler.refusal]
        record_refusal(case=case, actor=request.user, action="add evidence", reasons=reasons)
        return reasons
    if not form.is_valid():
        return [
            f"{form.fields[name].label or name.replace('_', ' ').capitalize()}: {error}" if name in form.fields else error
            for name, errors in form.errors.items()
            for error in errors
        ]
    data = form.cleaned_data
    try:
        evidence = evidence_services.add_evidence(
            case=case, by=request.user, content=data["file"], original_name=getattr(upload, "original_name", upload.name),
            description=data["description"], collected_at=data["collected_at"], collected_where=data["collected_where"],
            collected_by=data["collected_by"], declared_sha256=data["declared_sha256"],
        )
    except ActionRefused as exc:
        record_refusal(case=case, actor=request.user, action="add evidence", reasons=exc.reasons)
        return exc.reasons
    note = " The file is empty." if evidence.is_empty else ""
    messages.success(request, f"{evidence.label} stored: {evidence.size:,} bytes, SHA-256 {evidence.sha256}.{note}")
    return []


def _page_context(request, case, form) -> dict:
    items = list(
        case.evidence.select_related("uploaded_by", "superseded_by", "purged_by").prefetch_related("custody").order_by("pk")
    )
    same_bytes = defaultdict(list)
    for item in items:
        same_bytes[item.sha256].append(item)
    for item in items:
        item.duplicates = [other for other in same_bytes[item.sha256] if other.pk != item.pk]
    return {
        "case": case,
        "items": items,
        "form": form,
        "can_work": can_work_on_case(case, request.user),
        "can_manage": can_manage_case(case, request.user),
        "max_bytes": settings.IRT_EVIDENCE_MAX_BYTES,
        "failed_count": sum(1 for item in items if item.integrity_ok is False),
    }


def _origin(request) -> dict:
    """Return where the request came from, for the custody record."""
    return {"client_address": security_log.client_ip(request), "user_agent": request.META.get("HTTP_USER_AGENT", "")}


# A POST (with its CSRF token) and never a GET: a download writes custody, so a cross-site link or
# image must not be able to plant "downloaded by" records in someone else's name.
@evidence_staff_only
@require_POST
def download(request, reference, evidence_id):
    case = get_case_for(request.user, reference)
    evidence = get_object_or_404(Evidence.objects.select_related("case"), pk=evidence_id, case=case)
    try:
        evidence_services.record_download(evidence=evidence, by=request.user, **_origin(request))
    except ActionRefused as exc:
        for reason in exc.reasons:
            messages.error(request, reason)
        return redirect(_list_url(case))
    if not evidence_storage().exists(evidence.stored_name):
        evidence_services.record_mismatch(evidence=evidence, by=request.user, seen=None, during="download")
        messages.error(request, f"{evidence.label} cannot be sent: its stored file is missing. This was recorded on the timeline.")
        return redirect(_list_url(case))

    def on_mismatch(seen):
        evidence_services.record_mismatch(evidence=evidence, by=request.user, seen=seen, during="download")

    response = StreamingHttpResponse(verified_stream(evidence, on_mismatch=on_mismatch), content_type="application/octet-stream")
    response["Content-Length"] = str(evidence.size)
    response["Content-Disposition"] = attachment_disposition(evidence.original_name)
    response["X-Content-Type-Options"] = "nosniff"
    # Should a browser render it after all, it gets no scripts, no plugins, no origin.
    response["Content-Security-Policy"] = "sandbox"
    response["Cache-Control"] = "no-store"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    response["X-SHA256"] = evidence.sha256
    return response


@evidence_staff_only
@require_POST
def verify(request, reference, evidence_id):
    case = get_case_for(request.user, reference, write=True)
    evidence = get_object_or_404(Evidence.objects.select_related("case"), pk=evidence_id, case=case)
    ok = run_service(request, evidence_services.verify_evidence, success="", evidence=evidence, by=request.user)
    if ok is None:
        pass
    elif evidence.integrity_ok:
        messages.success(request, f"{evidence.label} still matches its SHA-256.")
    else:
        messages.error(request, f"{evidence.label} no longer matches its SHA-256; it is flagged and the timeline says so.")
    return redirect(_list_url(case))


@evidence_staff_only
@require_POST
def verify_all(request, reference):
    case = get_case_for(request.user, reference, write=True)
    result = run_service(request, evidence_services.verify_all, success="", case=case, by=request.user)
    if result is None:
        pass
    elif not result.checked and not result.purged:
        messages.info(request, "There is no evidence to verify yet.")
    elif result.ok:
        messages.success(request, f"All {result.checked} items still match their SHA-256." if result.checked else "Nothing to verify.")
    else:
        labels = ", ".join(item.label for item in result.failed)
        messages.error(request, f"{len(result.failed)} of {result.checked} items no longer match their SHA-256: {labels}.")
    if result is not None and result.purged:
        labels = ", ".join(item.label for item in result.purged)
        messages.info(request, f"Purged, not altered: the stored bytes of {labels} were purged; there is nothing to verify.")
    return redirect(_list_url(case))


@evidence_staff_only
@require_POST
def supersede(request, reference, evidence_id):
    case = get_case_for(request.user, reference, write=True)
    evidence = get_object_or_404(Evidence.objects.select_related("case"), pk=evidence_id, case=case)
    submit_form(request, SupersedeForm(request.POST), evidence_services.supersede_evidence,
                success=f"{evidence.label} superseded; it stays stored and listed.", evidence=evidence, by=request.user)
    return redirect(_list_url(case))


@evidence_staff_only
@require_POST
def legal_hold(request, reference):
    case = get_case_for(request.user, reference, write=True)
    if not can_manage_case(case, request.user):
        raise PermissionDenied("Only an incident manager or an admin can place or release a legal hold.")
    submit_form(
        request, LegalHoldForm(request.POST), legal_hold_services.set_legal_hold,
        success=lambda data: f"{case.reference} is on legal hold." if data["hold"] else f"Legal hold on {case.reference} released.",
        case=case, by=request.user,
    )
    return redirect(_list_url(case))


@evidence_staff_only
@require_POST
def export(request, reference):
    case = get_case_for(request.user, reference)
    items = run_service(request, evidence_services.record_export, success="", case=case, by=request.user, **_origin(request))
    if not items:
        return redirect(_list_url(case))
    custody = defaultdict(list)
    for row in EvidenceAccess.objects.filter(evidence__in=items).order_by("at", "pk"):
        custody[row.evidence_id].append(row)
    exported_at = timezone.now()

    def on_mismatch(item, seen):
        evidence_services.record_mismatch(evidence=item, by=request.user, seen=seen, during="export")

    stream = zip_stream(
        case=case, items=items, exported_by=request.user.get_username(), exported_at=exported_at,
        custody=custody, on_mismatch=on_mismatch,
    )
    response = StreamingHttpResponse(stream, content_type="application/zip")
    response["Content-Disposition"] = attachment_disposition(f"{case.reference}-evidence-{exported_at:%Y%m%dT%H%M%SZ}.zip")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    response["Cache-Control"] = "no-store"
    return response
