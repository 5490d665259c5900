"""Inspections and the follow-ups (限期整改) that failed items open."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index, text
from sqlmodel import Field, SQLModel

from server.models._base import json_column, tz_column, utcnow

STATUSES = ("draft", "submitted")


class Inspection(SQLModel, table=True):
    # Migration 0013. An inspector's changes after a cursor, in order: the pull reads just
    # those, where the inspector's index made it read and sort every inspection they ever
    # made, on every sync. And the records still waiting for photos, oldest first (the sync
    # answer's missing photos, an upload's records to complete): the few, not all.
    # Migration 0014: each point's latest submitted inspection, found without reading its
    # others (services/latest.py); 0015: with the cycle after it, each cycle's latest time
    # from the index alone (services/summaries.py).
    __table_args__ = (
        Index("ix_inspection_inspector_seq", "inspector_id", "seq"),
        Index("ix_inspection_point_latest", "point_id", "status", "submitted_at", "cycle_id"),
        Index(
            "ix_inspection_waiting",
            "inspector_id",
            "created_at",
            "id",
            sqlite_where=text("evidence_complete IS 0"),
            postgresql_where=text("evidence_complete IS false"),
        ),
    )

    # Made by the phone (UUID), so a record exists before the server has ever seen it.
    id: str = Field(primary_key=True, max_length=36)
    point_id: int = Field(foreign_key="service_point.id")
    template_version_id: int = Field(foreign_key="template_version.id", index=True)
    cycle_id: int | None = Field(default=None, foreign_key="cycle.id", index=True)
    inspector_id: int = Field(foreign_key="user.id")
    device_id: str | None = Field(default=None, max_length=64)
    status: str = Field(default="draft", max_length=16, index=True)
    answers: dict = Field(default_factory=dict, sa_column=json_column(False))
    # [{"sha256", "item", "size", "mime", "taken_at"}]
    photos: list = Field(default_factory=list, sa_column=json_column(False))
    gps: dict | None = Field(default=None, sa_column=json_column())
    notes: str = ""
    started_at: datetime | None = Field(default=None, sa_column=tz_column())
    submitted_at: datetime | None = Field(default=None, sa_column=tz_column(index=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=tz_column(False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=tz_column(False))
    rev: int = 1
    # Per-field hybrid logical clock stamps for the merge rule (see docs/sync-protocol.md).
    field_hlc: dict = Field(default_factory=dict, sa_column=json_column(False))
    # Cached evaluation from server.domain.rules.evaluate; None for drafts.
    result: dict | None = Field(default=None, sa_column=json_column())
    # "incomplete" (未完成) is 10 letters: 16 leaves room, as in point_summary.rating
    rating: str | None = Field(default=None, max_length=16, index=True)
    evidence_complete: bool = False
    seq: int = Field(default=0, index=True)
    # Migration 0016. The device that sent this row's current state exactly as the server
    # stored it, and the change number it was stored with: that device's pull need not echo
    # the row back while `seq` is still `echo_seq` (services/sync_pull.py). Any later change
    # takes a new seq, and then the row is sent again.
    echo_device: str | None = Field(default=None, max_length=64)
    echo_seq: int | None = None


class FollowUp(SQLModel, table=True):
    """A failed item to fix by a date (services/followups.py, domain/followups.py).

    Opened by the point's latest submitted inspection failing a scored item; closed by a
    later inspection passing it (`closed_by`), or by a supervisor on photo evidence
    (`closed_user_id`, `evidence`, `note`; audited). "overdue" is never stored."""

    __tablename__ = "follow_up"
    # a point's open follow-ups, read by the township and point pages (migration 0008); the
    # points' changes after a cursor, read by the pull (migration 0013, as the inspection's)
    __table_args__ = (
        Index("ix_follow_up_point_status", "point_id", "status"),
        Index("ix_follow_up_point_seq", "point_id", "seq"),
    )

    id: int | None = Field(default=None, primary_key=True)
    point_id: int = Field(foreign_key="service_point.id")
    cycle_id: int | None = Field(default=None, foreign_key="cycle.id", index=True)
    item_key: str = Field(max_length=64)
    reason_code: str = Field(default="", max_length=64)
    opened_by: str = Field(foreign_key="inspection.id")
    opened_at: datetime = Field(sa_column=tz_column(False))
    due_date: date = Field(index=True)
    status: str = Field(default="open", max_length=16, index=True)
    # who must fix it: the point's manager when it was opened (a supervisor may change it)
    responsible: str = Field(default="", max_length=32)
    responsible_phone: str = Field(default="", max_length=32)
    closed_by: str | None = Field(default=None, foreign_key="inspection.id")
    closed_at: datetime | None = Field(default=None, sa_column=tz_column())
    closed_user_id: int | None = Field(default=None, foreign_key="user.id")
    fixed_at: datetime | None = Field(default=None, sa_column=tz_column())
    # sha256 of the photos a supervisor closed it on (kept in the blob store)
    evidence: list = Field(default_factory=list, sa_column=json_column(False))
    note: str = Field(default="", max_length=500)
    seq: int = Field(default=0, index=True)
