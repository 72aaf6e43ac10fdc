"""Case reports: render the document, and record on the timeline that it left the system.

Each generation is a custody event (``report_generated``) carrying the SHA-256 of the exact
bytes handed out and the timeline head the report covered, so a copy an auditor holds can be
matched to the moment it was made.
"""

import hashlib

from django.contrib.staticfiles import finders
from django.db import transaction

from cases.models import Case, TimelineEvent
from cases.services.timeline import append_event, lock_case

REPORT_STYLESHEET = "irt/report.css"


class ReportAudience:
    INTERNAL = "internal"
    CUSTOMER = "customer"


def _refuse_fetch(url: str, *args, **kwargs):
    """Fetch nothing while rendering: text written by people may name URLs (an image in Markdown)."""
    raise ValueError(f"Reports load no external resources ({url}).")


def render_pdf(html: str) -> bytes:
    """Return ``html`` typeset as PDF with the report stylesheet (WeasyPrint)."""
    from weasyprint import CSS, HTML  # imported here: it loads Pango, which only report requests need

    stylesheet = CSS(filename=finders.find(REPORT_STYLESHEET), url_fetcher=_refuse_fetch)
    return HTML(string=html, url_fetcher=_refuse_fetch).write_pdf(stylesheets=[stylesheet])


@transaction.atomic
def issue_report(*, case: Case, by, audience: str, html: str, as_pdf: bool, organization=None) -> bytes:
    """Render the report, record its generation on the case's timeline, and return the document's bytes."""
    document = render_pdf(html) if as_pdf else html.encode()
    locked = lock_case(case)
    covered = locked.timeline_head
    kind = "PDF" if as_pdf else "HTML"
    reader = f" for {organization}" if organization is not None else ""
    append_event(
        case=locked,
        actor=by,
        kind=TimelineEvent.Kind.REPORT_GENERATED,
        text=f"{audience.capitalize()} case report ({kind}) generated{reader}.",
        data={
            "audience": audience,
            "format": kind.lower(),
            "sha256": hashlib.sha256(document).hexdigest(),
            "size": len(document),
            "covers_head": covered,
            **({"organization": organization.slug} if organization is not None else {}),
        },
    )
    case.timeline_head = locked.timeline_head
    return document
