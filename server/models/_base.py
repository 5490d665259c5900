"""Shared column helpers."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, Column, DateTime
from sqlalchemy.types import TypeDecorator

from server.clock import as_utc


def utcnow() -> datetime:
    return datetime.now(UTC)


def json_column(nullable: bool = True) -> Column:
    return Column(JSON, nullable=nullable)


class UTCDateTime(TypeDecorator):
    """Timestamps are always aware and in UTC. SQLite drops the zone on the way back; this
    puts it back, so comparisons never mix naive and aware values."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return as_utc(value)

    def process_result_value(self, value, dialect):
        return as_utc(value)


def tz_column(nullable: bool = True, index: bool = False) -> Column:
    return Column(UTCDateTime(), nullable=nullable, index=index)
