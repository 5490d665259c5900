"""People and their phones. Scope is an area: a user sees and writes only below it."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from server.models._base import tz_column, utcnow

ROLES = ("inspector", "supervisor", "admin")


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(index=True, unique=True, max_length=64)
    display_name: str = Field(max_length=64)
    password_hash: str = Field(max_length=255)
    role: str = Field(max_length=16)
    area_id: int = Field(foreign_key="area.id", index=True)
    phone: str | None = Field(default=None, max_length=32)
    active: bool = True
    lang: str | None = Field(default=None, max_length=8)  # zh-CN | en; None: the default
    created_at: datetime = Field(default_factory=utcnow, sa_column=tz_column(False))


class Device(SQLModel, table=True):
    """A phone or browser profile. The id is made by the client; the token is stored hashed."""

    id: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="user.id", index=True)
    name: str = Field(default="", max_length=128)  # what the inspector called it, if anything
    user_agent: str | None = Field(default=None, max_length=512)  # at login
    model: str | None = Field(default=None, max_length=64)  # Sec-CH-UA-Model at login
    token_hash: str | None = Field(default=None, index=True, unique=True, max_length=64)
    token_expires_at: datetime | None = Field(default=None, sa_column=tz_column())
    revoked_at: datetime | None = Field(default=None, sa_column=tz_column())
    created_at: datetime = Field(default_factory=utcnow, sa_column=tz_column(False))
    last_seen_at: datetime | None = Field(default=None, sa_column=tz_column())
