"""Every mapped class, imported in one place so metadata and Alembic see the whole schema."""

from incidents.audit.models import AuditEntry
from incidents.auth.models import ApiToken, LoginAttempt, Role, Scope, Team, User
from incidents.change.models import Change, ChangeApproval, ChangeRule, IncidentChange
from incidents.db import Base
from incidents.guard.models import (
    Guard,
    GuardConfirmation,
    GuardRun,
    GuardRunTest,
    GuardSettings,
)
from incidents.hooks.models import PagingSignal, SenderSettings
from incidents.inbox.models import Delivery, RejectedDelivery
from incidents.incident.models import (
    ChangeOrigin,
    DetectionMethod,
    Incident,
    IncidentSearch,
    Severity,
    Source,
    Status,
)
from incidents.line.models import Station
from incidents.outbox.models import JobState, OutboxJob
from incidents.prevention.models import (
    Outcome,
    PreventionItem,
    PreventionKind,
    PreventionLink,
    PreventionStatus,
)
from incidents.recurrence.models import DismissedCandidate, RecurrenceLink
from incidents.review.models import (
    DefectClass,
    KeptBlameFlag,
    MissReason,
    Review,
    ReviewRevision,
    ReviewState,
    StationFinding,
)
from incidents.review.policy_models import Requirement, ReviewSettings
from incidents.timeline.models import EventKind, TimelineEvent, TimelineEventRevision
from incidents.tracker.models import IssueState, Tracker, TrackerLink, Vendor

__all__ = [
    "ApiToken", "AuditEntry", "Base", "Change", "ChangeApproval", "ChangeOrigin", "ChangeRule",
    "DefectClass", "Delivery", "DetectionMethod", "DismissedCandidate", "EventKind", "Guard",
    "GuardConfirmation", "GuardRun", "GuardRunTest", "GuardSettings", "Incident", "IncidentChange",
    "IncidentSearch", "IssueState", "JobState", "KeptBlameFlag", "LoginAttempt", "MissReason",
    "OutboxJob", "Outcome", "PagingSignal", "PreventionItem", "PreventionKind", "PreventionLink",
    "PreventionStatus", "RecurrenceLink", "RejectedDelivery", "Requirement", "Review",
    "ReviewRevision", "ReviewSettings", "ReviewState", "Role", "Scope", "SenderSettings",
    "Severity", "Source", "Station", "StationFinding", "Status", "Team", "TimelineEvent",
    "TimelineEventRevision", "Tracker", "TrackerLink", "User", "Vendor",
]
