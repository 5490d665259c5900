"""Service points: township branches (镇分馆) and village service points (村服务点)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from server.models._base import json_column, tz_column, utcnow

KINDS = ("branch", "village")


class ServicePoint(SQLModel, table=True):
    __tablename__ = "service_point"
    # active points per township, and the few closed ones, from the index (migration 0012);
    # the townships' points changed after a cursor, for the pull (0013)
    __table_args__ = (
        Index("ix_service_point_active_township", "active", "township_id"),
        Index("ix_service_point_township_seq", "township_id", "seq"),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(index=True, unique=True, max_length=32)
    name: str = Field(max_length=64)
    kind: str = Field(max_length=16)
    township_id: int = Field(foreign_key="area.id")
    lat: float | None = None
    lon: float | None = None
    coords_approx: bool = False
    manager_name: str | None = Field(default=None, max_length=32)
    manager_phone: str | None = Field(default=None, max_length=32)
    # Weekly schedule in the checklist's weekly_hours shape: {"mon": [["08:30","12:00"]], ...}
    opening_hours: dict | None = Field(default=None, sa_column=json_column())
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_column=tz_column(False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=tz_column(False))
    seq: int = Field(default=0, index=True)
