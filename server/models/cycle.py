"""Assessment cycles, e.g. 2020年度公共文化服务目标责任考核, and who inspects what in them."""

from __future__ import annotations

from datetime import date

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel


class Cycle(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=128)
    year: int = Field(index=True)
    start_date: date
    end_date: date
    county_id: int = Field(foreign_key="area.id", index=True)
    current: bool = False
    seq: int = Field(default=0, index=True)


class Assignment(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("cycle_id", "point_id", "inspector_id"),)

    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="cycle.id", index=True)
    point_id: int = Field(foreign_key="service_point.id", index=True)
    inspector_id: int = Field(foreign_key="user.id", index=True)
    due_date: date | None = None
    seq: int = Field(default=0, index=True)
