"""The notification pack a customer downloads from an incident page: GDPR Art. 33(3) facts, as PDF and JSON.

Only an organisation that received a breach notice gets one (404 otherwise), built from its own
impact row through the portal's privacy filter. The PDF is a customer report document: its
generation is a ``report_generated`` row on the timeline, so it is a POST like the report.
"""

from django.http import Http404, JsonResponse
from django.template.loader import render_to_string
from django.views.decorators.http import require_POST, require_safe

from cases.access.lookups import get_incident_for
from cases.selectors import reports as selectors
from cases.services.reports import ReportAudience, issue_report
from cases.views.portal import _customer_only
from cases.views.reports import _document_response


def _pack_for(request, reference) -> tuple:
    case = get_incident_for(request.user, reference)
    pack = selectors.notification_pack(case, request.user.organization)
    if pack is None:
        raise Http404("Your organisation has no breach notice for this incident.")
    return case, pack


@require_POST
@_customer_only
def pack_pdf(request, reference):
    case, pack = _pack_for(request, reference)
    organization = request.user.organization
    document = issue_report(case=case, by=request.user, audience=ReportAudience.CUSTOMER, as_pdf=True,
                            html=render_to_string("portal/notification_pack.html", pack), organization=organization)
    return _document_response(document, fmt="pdf", filename=f"{case.reference}-{organization.slug}-notification-pack")


@require_safe
@_customer_only
def pack_json(request, reference):
    case, pack = _pack_for(request, reference)
    response = JsonResponse(selectors.notification_pack_json(pack), json_dumps_params={"ensure_ascii": False, "indent": 2})
    response["Content-Disposition"] = f'attachment; filename="{case.reference}-{request.user.organization.slug}-notification-pack.json"'
    return response
