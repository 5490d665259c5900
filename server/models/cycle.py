"""Assessment cycles, e.g. 2020年度公共文化服务目标责任考核, and who inspects what in them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from server.models._base import tz_column, utcnow


class Cycle(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=128)
    year: int = Field(index=True)
    start_date: date
    end_date: date
    # the day the assessors come (考核日): what "days left" counts down to
    assessment_date: date | None = None
    county_id: int = Field(foreign_key="area.id", index=True)
    current: bool = False
    seq: int = Field(default=0, index=True)


class Assignment(SQLModel, table=True):
    """An inspection plan: this inspector visits this point between start_date and due_date
    (Beijing dates, both included). A window that passes without a submitted inspection of
    the point is missed (services/plans.py). A point may be planned again in the same cycle
    with a later window, so a missed window stays on record; cancelling keeps the row (phones
    pull no deletions) and sets cancelled_at."""

    __table_args__ = (
        UniqueConstraint(
            "cycle_id", "point_id", "inspector_id", "start_date", name="uq_assignment_window"
        ),
        # the pull's: an inspector's (or the scope's points') changes after a cursor (0013)
        Index("ix_assignment_inspector_seq", "inspector_id", "seq"),
        Index("ix_assignment_point_seq", "point_id", "seq"),
    )

    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="cycle.id", index=True)
    point_id: int = Field(foreign_key="service_point.id")
    inspector_id: int = Field(foreign_key="user.id")
    start_date: date
    due_date: date
    note: str = Field(default="", max_length=255)
    created_by: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=tz_column(False))
    cancelled_at: datetime | None = Field(default=None, sa_column=tz_column())
    seq: int = Field(default=0, index=True)
