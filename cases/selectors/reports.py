"""What a case report says: the internal version for staff, the customer version for one organisation.

The customer version is read through the portal's privacy rules: published updates, the
published review, and the reader's own impact from ``AffectedCustomer.objects.impact_seen_by``
(the filter every customer surface uses). Nothing internal is loaded for it, so no template
has anything to hide.
"""

from collections import defaultdict

from django.db.models import Prefetch

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
