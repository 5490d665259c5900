"""Checklist templates and their immutable versions.

A version's content never changes once written; a threshold change or a county override is a
new version. Inspections point at the exact version they were filled against.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint, event, inspect
from sqlmodel import Field, SQLModel

from server.models._base import json_column, tz_column, utcnow


class ChecklistTemplate(SQLModel, table=True):
    __tablename__ = "checklist_template"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(index=True, unique=True, max_length=64)
    applies_to: str = Field(max_length=16)
    name_zh: str = Field(max_length=128)
    name_en: str = Field(max_length=128)


class TemplateVersion(SQLModel, table=True):
    __tablename__ = "template_version"
    __table_args__ = (UniqueConstraint("template_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    template_id: int = Field(foreign_key="checklist_template.id", index=True)
    version: int
    # None: the default for every county; else an override for that county area.
    county_id: int | None = Field(default=None, foreign_key="area.id", index=True)
    content: dict = Field(sa_column=json_column(False))
    content_hash: str = Field(max_length=64)
    note: str = Field(default="", max_length=255)
    created_by: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=tz_column(False))
    seq: int = Field(default=0, index=True)


@event.listens_for(TemplateVersion, "before_update")
def _versions_are_immutable(_mapper, _connection, target: TemplateVersion) -> None:
    """Inspections point at the exact version they were filled against: a change to a
    version's content must be a new version, never an edit."""
    state = inspect(target)
    for name in ("content", "content_hash", "version", "template_id", "county_id"):
        if state.attrs[name].history.has_changes():
            raise ValueError(f"template version {target.id} is immutable: {name} cannot change")
