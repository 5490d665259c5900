"""One /api/sync round trip as a use case: apply the device's ops, then pull what changed
for its user, and name the photos the server still waits for.

The push and the pull are separate transactions on purpose: the push holds the writer lock
(sync_store), the pull only reads, so a slow pull never holds up another phone's writes.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlmodel import Session, select

from server.db import chunked, session_scope
from server.models import Blob, Inspection
from server.services.devices import Caller
from server.services.photo_access import waiting_records
from server.services.scope import scope_of
from server.services.sync_prepare import prepare
from server.services.sync_pull import make_cursor, parse_cursor, pull
from server.services.sync_store import apply_batch
from sync.messages import SyncRequest, SyncResponse

MAX_MISSING = 500
MISSING_PAGE = 100  # records read at a time


def exchange(engine: Engine, caller: Caller, req: SyncRequest, page_size: int) -> SyncResponse:
    """Acks for `req.ops`, then the changes after `req.cursor` (at most `page_size`)."""
    with session_scope(engine) as session:
        scope = scope_of(session, caller.user)
        prepared = prepare(session, req.ops)  # before the writer lock, which it does not need
    acks = apply_batch(engine, caller, scope, req.ops, prepared)
    with session_scope(engine) as session:
        cursor = parse_cursor(req.cursor, scope)
        changes, nxt, more = pull(session, scope, cursor, page_size, caller.device.id)
        missing = missing_blobs(session, scope.user_id)
    return SyncResponse(
        acks=acks,
        changes=changes,
        missing_blobs=missing,
        cursor=make_cursor(nxt, scope),
        more=more,
        server_time=datetime.now(UTC).isoformat(),
    )


def missing_blobs(session: Session, user_id: int) -> list[str]:
    """Photos this user's records name that the server does not hold complete yet: those of
    the oldest records first (by creation), at most MAX_MISSING, listed in hash order. Every
    record still waiting for evidence names at least one missing photo, so reading records a
    page at a time and stopping at MAX_MISSING bounds the work even for a device with a long
    backlog."""
    missing: list[str] = []  # in the order of the records naming them
    seen: set[str] = set()
    offset = 0
    while len(missing) < MAX_MISSING:
        page = waiting_records(user_id, Inspection.photos).offset(offset).limit(MISSING_PAGE)
        rows = session.exec(page).all()
        offset += len(rows)
        named = list(dict.fromkeys(p["sha256"] for photos in rows for p in (photos or [])))
        named = [s for s in named if s not in seen]
        seen.update(named)
        done: set[str] = set()
        for part in chunked(named):
            done.update(
                session.exec(
                    select(Blob.sha256).where(
                        Blob.sha256.in_(part),  # type: ignore[attr-defined]
                        Blob.complete.is_(True),  # type: ignore[attr-defined]
                    )
                )
            )
        missing.extend(s for s in named if s not in done)
        if len(rows) < MISSING_PAGE:
            break
    # cut by age (a page's last records may overshoot the limit), then list by hash
    return sorted(missing[:MAX_MISSING])
