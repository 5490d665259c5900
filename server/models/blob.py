"""Photos, content-addressed by SHA-256. Bytes live in DATA_DIR/blobs/ab/abcdef…"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from server.models._base import tz_column, utcnow


class Blob(SQLModel, table=True):
    sha256: str = Field(primary_key=True, max_length=64)
    size: int = 0
    mime: str = Field(default="image/jpeg", max_length=64)
    received: int = 0
    complete: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_column=tz_column(False))
    completed_at: datetime | None = Field(default=None, sa_column=tz_column())
