"""Administrative areas: province > city > county > township, with official codes."""

from __future__ import annotations

from sqlmodel import Field, SQLModel

LEVELS = ("province", "city", "county", "township")


class Area(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(index=True, unique=True, max_length=12)
    name: str = Field(max_length=64)
    level: str = Field(max_length=16)
    parent_id: int | None = Field(default=None, foreign_key="area.id", index=True)
    lat: float | None = None
    lon: float | None = None
    seq: int = Field(default=0, index=True)
