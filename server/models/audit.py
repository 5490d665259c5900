"""Append-only audit log of who changed what."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from server.models._base import json_column, tz_column, utcnow


class AuditLog(SQLModel, table=True):
    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_column=tz_column(False, index=True))
    user_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    device_id: str | None = Field(default=None, max_length=64)
    action: str = Field(max_length=64, index=True)
    target_type: str = Field(default="", max_length=32)
    target_id: str = Field(default="", max_length=64)
    # the area the change concerns (a point's township, a user's area, a cycle's county), so
    # a supervisor's audit page shows their subtree's entries and the log filters by area
    area_id: int | None = Field(default=None, foreign_key="area.id", index=True)
    detail: dict | None = Field(default=None, sa_column=json_column())
