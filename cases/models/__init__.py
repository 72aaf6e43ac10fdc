"""Models of internal case work; one module per concern, re-exported here for Django."""

from cases.models.accounts import Organization, User
from cases.models.case import Case, CaseGroupObjectPermission, CaseUserObjectPermission, ReferenceCounter, Service
from cases.models.communications import Acknowledgement, CustomerStatus, IncidentUpdate, PublishedReview, RepairItem
from cases.models.customers import AffectedCustomer, IncidentPageView, OutOfBandNotice
from cases.models.deadlines import Deadline, DeadlineDelay
from cases.models.evidence import Evidence, EvidenceAccess
from cases.models.review import PostIncidentReview
from cases.models.security import SecurityEvent
from cases.models.tasks import Task
from cases.models.timeline import TimelineEvent

__all__ = [
    "Acknowledgement",
    "CustomerStatus",
    "IncidentUpdate",
    "PublishedReview",
    "RepairItem",
    "AffectedCustomer",
    "Case",
    "CaseGroupObjectPermission",
    "CaseUserObjectPermission",
    "Deadline",
    "DeadlineDelay",
    "Evidence",
    "EvidenceAccess",
    "IncidentPageView",
    "Organization",
    "OutOfBandNotice",
    "PostIncidentReview",
    "ReferenceCounter",
    "SecurityEvent",
    "Service",
    "Task",
    "TimelineEvent",
    "User",
]
