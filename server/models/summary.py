"""Per-point and per-area summaries of each cycle, kept true in every writing transaction.

Derived data: services/summaries.py recomputes a point's rows whenever one of its
inspections, its activity or its township changes, and adds the difference to its
township's and county's rows. Areas above the county (a city, a province) sum their counties'
rows when read, since each cycle belongs to one county.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from server.models._base import json_column, tz_column


class PointSummary(SQLModel, table=True):
    """A point's latest submitted inspection in a cycle, and what it counts for."""

    __tablename__ = "point_summary"
    # the overview's inspector progress and the map's colours, read from the index alone
    # (migration 0011)
    __table_args__ = (
        Index("ix_point_summary_cycle_inspector", "inspector_id", "cycle_id", "counted"),
        Index("ix_point_summary_cycle_rating", "cycle_id", "counted", "point_id", "rating"),
    )

    cycle_id: int = Field(foreign_key="cycle.id", primary_key=True)
    point_id: int = Field(foreign_key="service_point.id", primary_key=True, index=True)
    # Where the point counted when this row was written (its township then, and that
    # township's county), so a move or a closing takes it away from the right rows.
    township_id: int = Field(foreign_key="area.id", index=True)
    county_id: int = Field(foreign_key="area.id", index=True)
    counted: bool = True  # the point was active: it counts in its areas' rows
    inspection_id: str = Field(foreign_key="inspection.id", max_length=36)
    inspection_seq: int = 0  # the inspection's change number when read: unchanged = skip
    inspector_id: int = Field(foreign_key="user.id", index=True)
    template_version_id: int = Field(foreign_key="template_version.id")
    template_key: str = Field(max_length=64)
    submitted_at: datetime = Field(sa_column=tz_column(False))
    rating: str = Field(max_length=16)
    evidence_complete: bool = True
    critical_count: int = 0  # critical items not passed (lists filter on it)
    failed_count: int = 0  # items failed or left unanswered
    critical_failed: list = Field(default_factory=list, sa_column=json_column(False))
    # [{"item", "status" (fail|missing), "code", "params"}]
    failed: list = Field(default_factory=list, sa_column=json_column(False))
    # {item key: "p" | "f" | "m"} for every counted item (na left out)
    items: dict = Field(default_factory=dict, sa_column=json_column(False))
    # the point's follow-ups opened in this cycle and not closed: {"due|status": count}
    # (domain/followups.py), so a close or a move changes its areas' counts by difference
    follow_ups: dict = Field(default_factory=dict, sa_column=json_column(False))


class AreaSummary(SQLModel, table=True):
    """Sums over a township's or county's counted point summaries in one cycle."""

    __tablename__ = "area_summary"

    cycle_id: int = Field(foreign_key="cycle.id", primary_key=True)
    area_id: int = Field(foreign_key="area.id", primary_key=True, index=True)
    inspected: int = 0
    good: int = 0
    basic: int = 0
    fail: int = 0
    incomplete: int = 0
    critical: int = 0  # points with at least one critical item not passed
    evidence_pending: int = 0  # points whose latest inspection still waits for photos


class AreaItemSummary(SQLModel, table=True):
    """Pass counts per checklist item for a township or county in one cycle."""

    __tablename__ = "area_item_summary"

    cycle_id: int = Field(foreign_key="cycle.id", primary_key=True)
    area_id: int = Field(foreign_key="area.id", primary_key=True)
    template_key: str = Field(primary_key=True, max_length=64)
    item_key: str = Field(primary_key=True, max_length=64)
    passed: int = 0
    counted: int = 0


class AreaFollowUpSummary(SQLModel, table=True):
    """Follow-ups not yet closed in a township or county, by cycle, due date and status:
    open and overdue counts for any day are sums over these rows (overdue = open rows
    due before that day), so nothing needs updating when a due date passes."""

    __tablename__ = "area_follow_up_summary"
    # the overview's open and overdue counts per area, summed from the index (migration 0011)
    __table_args__ = (
        Index("ix_area_follow_up_summary_area", "area_id", "status", "due_date", "count"),
    )

    cycle_id: int = Field(foreign_key="cycle.id", primary_key=True)
    area_id: int = Field(foreign_key="area.id", primary_key=True)
    due_date: date = Field(primary_key=True)
    status: str = Field(primary_key=True, max_length=16)
    count: int = 0
