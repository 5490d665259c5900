"""All tables. Importing this module registers them on SQLModel.metadata."""

from server.models.area import LEVELS, Area
from server.models.audit import AuditLog
from server.models.blob import Blob
from server.models.boundary import AreaBoundary
from server.models.counter import ChangeCounter
from server.models.cycle import Assignment, Cycle
from server.models.inspection import STATUSES, FollowUp, Inspection
from server.models.point import KINDS, ServicePoint
from server.models.rate import RateCounter
from server.models.summary import (
    AreaFollowUpSummary,
    AreaItemSummary,
    AreaSummary,
    PointSummary,
)
from server.models.sync import InspectionRevision, Quarantine, RetiredToken, SyncConflict, SyncOp
from server.models.template import ChecklistTemplate, TemplateVersion
from server.models.user import ROLES, Device, User

__all__ = [
    "KINDS",
    "LEVELS",
    "ROLES",
    "STATUSES",
    "Area",
    "AreaBoundary",
    "AreaFollowUpSummary",
    "AreaItemSummary",
    "AreaSummary",
    "Assignment",
    "AuditLog",
    "Blob",
    "ChangeCounter",
    "ChecklistTemplate",
    "Cycle",
    "Device",
    "FollowUp",
    "Inspection",
    "InspectionRevision",
    "PointSummary",
    "Quarantine",
    "RateCounter",
    "RetiredToken",
    "ServicePoint",
    "SyncConflict",
    "SyncOp",
    "TemplateVersion",
    "User",
]
