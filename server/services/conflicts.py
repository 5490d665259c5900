"""A supervisor settles a sync conflict: the chosen values become a new revision."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine

from server.clock import parse_iso
from server.db import session_scope
from server.errors import Conflict
from server.models import Inspection, InspectionRevision, SyncConflict
from server.services import audit
from server.services.changes import stamp
from server.services.inspections import refresh_outcome
from server.services.summaries import refresh_points
from server.services.sync_pull import Serializer
from server.services.sync_write import SERVER_CLOCK, SERVER_ONLY_FIELDS, lock_writers
from sync.merge import resolve
from sync.records import normalize


def resolve_conflict(
    engine: Engine,
    conflict_id: int,
    choices: dict,
    resolver_id: int,
    detail: dict | None = None,
) -> SyncConflict:
    """Apply a supervisor's choice as a new revision stamped by the server clock, and write
    the `review.resolve` audit entry (``detail`` plus the new revision), all in one
    transaction under the writer lock. "Already resolved" is decided inside that transaction:
    of two supervisors resolving at once, the second gets `already_resolved` (409) and
    changes nothing. LookupError: no such conflict."""
    with session_scope(engine, write=True) as session:
        lock_writers(session)
        row = session.get(SyncConflict, conflict_id)
        if row is None:
            raise LookupError(conflict_id)
        if row.status != "open":
            raise Conflict(code="already_resolved")
        insp = session.get(Inspection, row.inspection_id)
        assert insp is not None
        serializer = Serializer(session)
        snap = session.get(InspectionRevision, (insp.id, insp.rev))
        data = serializer.record(insp, snap.data if snap else None)
        for key in SERVER_ONLY_FIELDS:
            data.pop(key, None)
        merged, clocks = resolve(
            normalize(data), dict(insp.field_hlc or {}), choices, SERVER_CLOCK.now().encode()
        )
        rev = insp.rev + 1
        insp.answers, insp.notes, insp.gps = merged["answers"], merged["notes"], merged["gps"]
        insp.started_at = parse_iso(merged["started_at"])
        insp.rev, insp.field_hlc, insp.updated_at = rev, clocks, datetime.now(UTC)
        session.add(
            InspectionRevision(
                inspection_id=insp.id, rev=rev, data=merged, device_id=f"resolved-by-{resolver_id}"
            )
        )
        row.status, row.resolved_by = "resolved", resolver_id
        row.resolved_at, row.resolution = datetime.now(UTC), {"choices": choices, "rev": rev}
        session.add(row)
        session.flush()
        refresh_outcome(session, insp)
        stamp(session, insp)
        refresh_points(session, {insp.point_id})
        audit.record(
            session,
            "review.resolve",
            user_id=resolver_id,
            target_type="conflict",
            target_id=conflict_id,
            detail={**(detail or {}), "rev": rev},
        )
        return row
