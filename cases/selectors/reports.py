"""What a case report says: the internal version for staff, the customer version for one organisation.

The customer version is read through the portal's privacy rules: published updates, the
published review, and the reader's own impact from ``AffectedCustomer.objects.impact_seen_by``
(the filter every customer surface uses). Nothing internal is loaded for it, so no template
has anything to hide.
"""

from collections import defaultdict
from datetime import UTC

from django.conf import settings
from django.db.models import Prefetch
from django.urls import reverse

from cases.models import AffectedCustomer, Case, Evidence, EvidenceAccess, IncidentUpdate, PublishedReview, RepairItem, TimelineEvent
from cases.models.hooks import case_delivery_receipts
from cases.selectors.cases import case_detail
from cases.selectors.timeline import first_broken_link

K = TimelineEvent.Kind
# Events that record somebody deciding something: the report names who and when.
DECISION_KINDS = (
    K.TRANSITION, K.BREACH_DECLARED, K.CUSTOMER_CONFIRMED, K.CUSTOMER_WITHDRAWN, K.NOTICE_APPROVED, K.STEP_SKIPPED,
    K.CLOCK_DECISION, K.CLOCK_CLOSE_OVERRIDE, K.DEADLINE_DELAY_APPROVED, K.REVIEW_APPROVED, K.UPDATE_PUBLISHED,
    K.PUBLIC_REVIEW_PUBLISHED, K.LEGAL_HOLD,
)


def internal_report(case: Case) -> dict:
    """Return everything the staff report shows, in a bounded number of queries."""
    case = case_detail(case)
    timeline = sorted(case.timeline.all(), key=lambda event: event.sequence)
    broken, checked = first_broken_link(case)
    receipts = defaultdict(list)
    for event in timeline:
        if event.kind == K.CUSTOMER_NOTIFIED:
            receipts[event.data.get("organization")].append(event)
    tasks = list(case.tasks.all())
    return {
        "case": case,
        "stages": [event for event in timeline if event.kind == K.TRANSITION],
        "decisions": [event for event in timeline if event.kind in DECISION_KINDS],
        "timeline": timeline,
        "tasks": tasks,
        "deviations": [task for task in tasks if task.skipped_at],
        "affected": [(row, receipts.get(row.organization.slug, [])) for row in case.affected_customers.all()],
        # The sends themselves (email, webhook) come from ``notifications`` through the hook.
        "deliveries": case_delivery_receipts(case),
        "clocks": list(case.deadlines.all()),
        "evidence": list(
            Evidence.objects.filter(case=case).select_related("uploaded_by")
            .prefetch_related(Prefetch("custody", queryset=EvidenceAccess.objects.order_by("at", "id")))
        ),
        "review": getattr(case, "review", None),
        "published_review": getattr(case, "published_review", None),
        "repairs": list(case.repair_items.all()),
        "verification": {"ok": broken is None, "problem": broken, "events": checked, "head": case.timeline_head},
    }


def customer_report(case: Case, organization) -> dict:
    """Return what ``organization`` may read of ``case``, in the shape of the portal's incident body."""
    updates = list(
        IncidentUpdate.objects.published().filter(case=case).select_related("corrects").order_by("-published_at", "-id")
    )
    review = PublishedReview.objects.published().filter(case=case).first()
    return {
        "reference": case.reference,
        "organization": organization,
        "impact": AffectedCustomer.objects.impact_seen_by(case=case, organization=organization),
        "updates": updates,
        "latest": updates[0] if updates else None,
        "review": review,
        "repairs": list(RepairItem.objects.filter(case=case)) if review else [],
    }


def iso_times(times: dict) -> dict:
    """Return ``times`` (name: datetime or None) as ISO 8601 UTC strings, None where unset: what machines read."""
    return {name: moment.astimezone(UTC).isoformat() if moment else None for name, moment in times.items()}


def breach_times(latest: IncidentUpdate, review: PublishedReview | None) -> dict:
    """Return when the breach started, was detected and ended, as customers were told (None where not known).

    From the latest published update; the impact window, when that update gives no start, from the
    published review: the case's own times are internal until an approved text states them. A start
    without an end means the impact is ongoing.
    """
    window = latest if latest.impact_started_at or review is None else review
    return {"impact_started_at": window.impact_started_at, "detected_at": latest.detected_at,
            "impact_ended_at": window.impact_ended_at}


def notification_pack(case: Case, organization) -> dict | None:
    """Return what a controller reports under GDPR Art. 33(3), from ``organization``'s own impact row only.

    None unless the organisation received a breach notice (its row is a breach and notified): the
    pack is for meeting clocks that notice started. Built on ``customer_report``, so it reads
    nothing the incident page does not.
    """
    report = customer_report(case, organization)
    impact, latest = report["impact"], report["latest"]
    if impact is None or not impact.is_breach or impact.notified_at is None or latest is None:
        return None
    return {
        **report,
        "awareness_at": impact.notified_at,
        "times": breach_times(latest, report["review"]),
        "nature": {"what_happened": latest.what_happened, "what_we_know": latest.what_we_know,
                   "affected_services": latest.affected_services, "status": latest.get_status_display()},
        "data_concerned": {"impacts": impact.data_impacts, "statement": impact.impact_statement},
        "likely_consequences": latest.what_you_should_do,
        "measures_taken": latest.what_we_are_doing,
        "measures_proposed": [item.title for item in report["repairs"]],
        "contact_point": {"email": settings.DEFAULT_FROM_EMAIL, "incident_page": settings.IRT_SITE_URL + reverse("portal:incident", args=[case.reference])},
    }


def notification_pack_json(pack: dict) -> dict:
    """Return the pack as plain JSON values (the shape of the PDF, section by section)."""
    return {
        "incident": pack["reference"],
        "organization": pack["organization"].slug,
        "notified_at": pack["awareness_at"].isoformat(),
        "gdpr_art33_3": {
            "a_nature_of_breach": pack["nature"],
            "a_when": iso_times(pack["times"]),
            "a_categories_and_numbers": pack["data_concerned"],
            "b_contact_point": pack["contact_point"],
            "c_likely_consequences": pack["likely_consequences"],
            "d_measures_taken": pack["measures_taken"],
            "d_measures_proposed": pack["measures_proposed"],
        },
        "updates": [{"published_at": update.published_at.isoformat(), "title": update.public_title, "status": update.status}
                    for update in pack["updates"]],
    }
