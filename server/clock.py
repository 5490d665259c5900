"""Times in UTC, fixed in one place.

The database hands back what it was given: `UTCDateTime` columns (server/models/_base.py)
come back aware, but an aggregate over a plain column, a raw `text()` query or a value
read from JSON may still be naive. Naive values were always written as UTC, so `as_utc`
reads them that way; comparing naive with aware raises, which is the trap this avoids.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload


def utcnow() -> datetime:
    return datetime.now(UTC)


@overload
def as_utc(value: datetime) -> datetime: ...
@overload
def as_utc(value: None) -> None: ...
def as_utc(value: datetime | None) -> datetime | None:
    """The same instant, aware and in UTC (a naive value is taken as UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def parse_iso(value: str | None) -> datetime | None:
    """A wire timestamp (`...Z` or with an offset; naive taken as UTC) as an aware datetime."""
    if not value:
        return None
    return as_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))


def iso(value: datetime | None) -> str | None:
    """A stored time on the wire: ISO 8601 in UTC."""
    return None if value is None else as_utc(value).isoformat()
