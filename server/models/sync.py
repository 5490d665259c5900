"""Tables of the sync protocol: the op log (stored acks), revisions, conflicts, quarantine.

Device tokens and blobs live in user.py and blob.py; these tables hold what makes sync
exactly-once and lossless (see docs/sync-protocol.md).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from server.models._base import json_column, tz_column, utcnow


class SyncOp(SQLModel, table=True):
    """One row per op id ever acked. Its primary key is what makes a replay a no-op."""

    __tablename__ = "sync_op"

    op_id: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="user.id", index=True)
    device_id: str = Field(max_length=64, index=True)
    record_id: str = Field(max_length=64, index=True)
    body_hash: str = Field(max_length=64)
    status: str = Field(max_length=16)
    ack: dict = Field(sa_column=json_column(False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=tz_column(False))


class InspectionRevision(SQLModel, table=True):
    """The record as the protocol sees it at each revision: the base of three-way merges."""

    __tablename__ = "inspection_revision"

    inspection_id: str = Field(primary_key=True, max_length=36)
    rev: int = Field(primary_key=True)
    data: dict = Field(sa_column=json_column(False))
    op_id: str | None = Field(default=None, max_length=64)
    device_id: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=tz_column(False))


class SyncConflict(SQLModel, table=True):
    """Both versions of a concurrently edited record, kept until a supervisor resolves it."""

    __tablename__ = "sync_conflict"

    id: int | None = Field(default=None, primary_key=True)
    inspection_id: str = Field(foreign_key="inspection.id", index=True, max_length=36)
    op_id: str = Field(max_length=64, index=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    device_id: str = Field(max_length=64)
    base_rev: int
    server_rev: int
    merged_rev: int
    fields: list = Field(sa_column=json_column(False))
    server_version: dict = Field(sa_column=json_column(False))
    client_version: dict = Field(sa_column=json_column(False))
    status: str = Field(default="open", max_length=16, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=tz_column(False))
    resolved_by: int | None = Field(default=None, foreign_key="user.id")
    resolved_at: datetime | None = Field(default=None, sa_column=tz_column())
    resolution: dict | None = Field(default=None, sa_column=json_column())


class Quarantine(SQLModel, table=True):
    """An op that could not be applied, with why. Nothing a device sent is ever dropped."""

    __tablename__ = "sync_quarantine"
    __table_args__ = (UniqueConstraint("op_id", "body_hash", name="uq_sync_quarantine_op_body"),)

    id: int | None = Field(default=None, primary_key=True)
    op_id: str = Field(max_length=64, index=True)
    body_hash: str = Field(max_length=64)
    user_id: int = Field(foreign_key="user.id", index=True)
    device_id: str = Field(max_length=64)
    record_id: str = Field(default="", max_length=64, index=True)
    point_code: str | None = Field(default=None, max_length=32, index=True)
    code: str = Field(max_length=64, index=True)
    field: str | None = Field(default=None, max_length=255)
    message_zh: str = ""
    message_en: str = ""
    raw: dict = Field(sa_column=json_column(False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=tz_column(False))


class RetiredToken(SQLModel, table=True):
    """Digests of tokens replaced by rotation or a new login, so they answer `token_revoked`
    (a clear "log in again") rather than `token_invalid`."""

    __tablename__ = "retired_token"

    token_hash: str = Field(primary_key=True, max_length=64)
    device_id: str = Field(max_length=64, index=True)
    reason: str = Field(max_length=16)
    retired_at: datetime = Field(default_factory=utcnow, sa_column=tz_column(False))
