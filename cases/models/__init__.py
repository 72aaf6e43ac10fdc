"""Models of internal case work; one module per concern, re-exported here for Django."""

from cases.models.accounts import Organization, User
from cases.models.alerts import Alert, AlertGroup, AlertGroupIndicator, AlertResource, AlertSource, CaseObservable, Observable
from cases.models.api_tokens import ApiToken
from cases.models.blockers import Blocker
from cases.models.clocks import ClockDecision, ClockSubmission
from cases.models.case import Case, CaseGroupObjectPermission, CaseUserObjectPermission, ReferenceCounter, Service
from cases.models.communications import Acknowledgement, CustomerStatus, IncidentUpdate, PublishedReview, RepairItem
from cases.models.customers import AffectedCustomer, IncidentPageView, OutOfBandNotice
from cases.models.deadlines import Deadline, DeadlineDelay
from cases.models.evidence import Evidence, EvidenceAccess
from cases.models.questions import CustomerQuestion, CustomerUpload, QuestionReply
from cases.models.playbooks import Playbook, PlaybookStep, PlaybookVersion
from cases.models.review import PostIncidentReview
from cases.models.security import SecurityEvent
from cases.models.sessions import SignedInSession
from cases.models.tasks import Task
from cases.models.tenants import OrganizationTenant
from cases.models.timeline import TimelineEvent

__all__ = [
    "Alert",
    "AlertGroup",
    "AlertGroupIndicator",
    "AlertResource",
    "AlertSource",
    "CaseObservable",
    "Observable",
    "OrganizationTenant",
    "Acknowledgement",
    "ApiToken",
    "Blocker",
    "CustomerStatus",
    "IncidentUpdate",
    "PublishedReview",
    "RepairItem",
    "AffectedCustomer",
    "Case",
    "CustomerQuestion",
    "CustomerUpload",
    "QuestionReply",
    "CaseGroupObjectPermission",
    "CaseUserObjectPermission",
    "ClockDecision",
    "ClockSubmission",
    "Deadline",
    "DeadlineDelay",
    "Evidence",
    "EvidenceAccess",
    "IncidentPageView",
    "Organization",
    "OutOfBandNotice",
    "Playbook",
    "PlaybookStep",
    "PlaybookVersion",
    "PostIncidentReview",
    "ReferenceCounter",
    "SecurityEvent",
    "SignedInSession",
    "Service",
    "Task",
    "TimelineEvent",
    "User",
]
