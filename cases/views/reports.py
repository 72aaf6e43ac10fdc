"""The case report as a document: the internal version (staff, PDF or HTML) and the customer version (PDF).

Every generation writes a ``report_generated`` row on the case's timeline, so each of these views
is a POST with its CSRF token, never a GET: a cross-site link, an image or a link prefetcher must not
be able to plant a record in someone's name (the same rule as evidence *Download*). The buttons
are on the case page and on the customer's incident page.
"""

from django.http import Http404, HttpResponse
from django.template.loader import render_to_string
from django.views.decorators.http import require_POST

from cases.access.lookups import get_case_for, get_incident_for
from cases.selectors import reports as selectors
from cases.services.reports import ReportAudience, issue_report
from cases.views.helpers import staff_required
from cases.views.portal import _customer_only

CONTENT_TYPES = {"pdf": "application/pdf", "html": "text/html; charset=utf-8"}


def _document_response(document: bytes, *, fmt: str, filename: str) -> HttpResponse:
    response = HttpResponse(document, content_type=CONTENT_TYPES[fmt])
    disposition = "attachment" if fmt == "pdf" else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}.{fmt}"'
    return response


@staff_required
@require_POST
def case_report(request, reference, fmt):
    """The internal report, through the same access helper as the case page."""
    if fmt not in CONTENT_TYPES:
        raise Http404("Reports are PDF or HTML.")
    case = get_case_for(request.user, reference)
    context = {**selectors.internal_report(case), "for_browser": fmt == "html"}
    html = render_to_string("cases/reports/internal.html", context)
    document = issue_report(case=case, by=request.user, audience=ReportAudience.INTERNAL, html=html, as_pdf=fmt == "pdf")
    return _document_response(document, fmt=fmt, filename=f"{case.reference}-report")


@require_POST
@_customer_only
def customer_report(request, reference):
    """The customer version: only what the reader's organisation reads on its incident page."""
    case = get_incident_for(request.user, reference)
    organization = request.user.organization
    html = render_to_string("portal/report.html", selectors.customer_report(case, organization))
    document = issue_report(case=case, by=request.user, audience=ReportAudience.CUSTOMER, html=html, as_pdf=True,
                            organization=organization)
    return _document_response(document, fmt="pdf", filename=f"{case.reference}-{organization.slug}")
