"""The database side of sync.apply: one transaction per op, writers serialised.

Why serialise: two devices pushing edits to one record must not both merge against the same
revision (a lost update), and two identical requests racing must meet as "first applies,
second replays". On PostgreSQL each op's transaction first takes a transaction-scoped
advisory lock; on SQLite the transaction starts with BEGIN IMMEDIATE. The unique op_id row
is the backstop: if a racing copy still slips through, its insert fails, the transaction
rolls back and the retry finds the stored ack.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, select

from server.db import session_scope
from server.models import Inspection, InspectionRevision, Quarantine, SyncConflict, SyncOp
from server.services.changes import stamp
from server.services.devices import Caller
from server.services.inspections import refresh_outcome
from server.services.sync_checks import Checker, Resolved
from server.services.sync_pull import Scope, Serializer
from sync import hlc
from sync.apply import Context, Current, StoredAck, apply_op
from sync.errors import Rejection
from sync.merge import MergeResult
from sync.messages import Ack, BadOp, Op
from sync.records import normalize

log = logging.getLogger("xunjian.sync")
LOCK_KEY = 0x58554E4A  # "XUNJ": one advisory lock for every sync writer
SERVER_CLOCK = hlc.Clock("server")
_SERVER_ONLY = ("rev", "rating", "result", "evidence_complete", "evidence_pending")


def lock_writers(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})


def _dt(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class SqlRepo:
    """sync.apply.Repo over SQLModel, inside one op's transaction."""

    def __init__(self, session: Session, caller: Caller, scope: Scope) -> None:
        self.session = session
        self.caller = caller
        self.checker = Checker(session, scope.subtree)
        self.serializer = Serializer(session)
        self.resolved: dict[str, Resolved] = {}

    def stored_ack(self, op_id: str) -> StoredAck | None:
        row = self.session.get(SyncOp, op_id)
        if row is None:
            return None
        return StoredAck(Ack.from_json(row.ack), row.body_hash, row.user_id)

    def record(self, record_id: str) -> Current | None:
        insp = self.session.get(Inspection, record_id)
        if insp is None:
            return None
        snap = self.snapshot(record_id, insp.rev)
        data = self.serializer.record(insp, snap)
        for key in _SERVER_ONLY:
            data.pop(key, None)
        return Current(normalize(data), insp.rev, dict(insp.field_hlc or {}), insp.inspector_id)

    def snapshot(self, record_id: str, rev: int) -> dict | None:
        row = self.session.get(InspectionRevision, (record_id, rev))
        return row.data if row else None

    def check(self, data: dict, current: Current | None, ctx: Context) -> Rejection | None:
        found = self.checker.check(data)
        if isinstance(found, Rejection):
            return found
        self.resolved[data["id"]] = found
        return None

    def save_record(
        self, op: Op, result: MergeResult, rev: int, current: Current | None, ctx: Context
    ) -> None:
        rec = result.record
        insp = self.session.get(Inspection, op.record_id)
        if insp is None:
            where = self.resolved[op.record_id]
            insp = Inspection(
                id=op.record_id,
                point_id=where.point_id,
                template_version_id=where.version_id,
                inspector_id=ctx.user_id,
            )
        insp.cycle_id = rec["cycle_id"]
        insp.device_id = rec["device_id"] or ctx.device_id
        insp.status = rec["status"]
        insp.answers, insp.photos, insp.gps = rec["answers"], rec["photos"], rec["gps"]
        insp.notes = rec["notes"]
        insp.started_at, insp.submitted_at = _dt(rec["started_at"]), _dt(rec["submitted_at"])
        insp.rev, insp.field_hlc = rev, result.clocks
        insp.updated_at = datetime.now(UTC)
        self.session.add(insp)
        self.session.add(
            InspectionRevision(
                inspection_id=op.record_id,
                rev=rev,
                data=rec,
                op_id=op.op_id,
                device_id=ctx.device_id,
            )
        )
        self.session.flush()
        refresh_outcome(self.session, insp)
        stamp(self.session, insp)

    def add_conflict(
        self, op: Op, current: Current, result: MergeResult, rev: int, ctx: Context
    ) -> int:
        row = SyncConflict(
            inspection_id=op.record_id,
            op_id=op.op_id,
            user_id=ctx.user_id,
            device_id=ctx.device_id,
            base_rev=op.base_rev,
            server_rev=current.rev,
            merged_rev=rev,
            fields=[
                {
                    "field": c.field,
                    "server": c.server_value,
                    "client": c.client_value,
                    "winner": c.winner,
                }
                for c in result.conflicts
            ],
            server_version=current.data,
            client_version=normalize(op.data),
        )
        self.session.add(row)
        self.session.flush()
        assert row.id is not None
        return row.id

    def store_ack(self, ack: Ack, body_hash: str, ctx: Context) -> None:
        self.session.add(
            SyncOp(
                op_id=ack.op_id,
                user_id=ctx.user_id,
                device_id=ctx.device_id,
                record_id=ack.record_id,
                body_hash=body_hash,
                status=ack.status,
                ack=ack.to_json(),
            )
        )
        self.session.flush()

    def quarantine(
        self, op_id: str, body_hash: str, raw: dict, rej: Rejection, ctx: Context
    ) -> None:
        exists = self.session.exec(
            select(Quarantine.id).where(
                Quarantine.op_id == op_id, Quarantine.body_hash == body_hash
            )
        ).first()
        if exists is not None:
            return
        zh, en = rej.messages()
        data = raw.get("data") if isinstance(raw.get("data"), dict) else {}
        code = data.get("point_code")
        rid = raw.get("record_id")
        self.session.add(
            Quarantine(
                op_id=op_id,
                body_hash=body_hash,
                user_id=ctx.user_id,
                device_id=ctx.device_id,
                record_id=rid[:64] if isinstance(rid, str) else "",
                point_code=code[:32] if isinstance(code, str) else None,
                code=rej.code,
                field=(rej.field or "")[:255] or None,
                message_zh=zh,
                message_en=en,
                raw=raw,
            )
        )
        self.session.flush()


def apply_one(engine: Engine, caller: Caller, scope: Scope, op: Op | BadOp) -> tuple[Ack, bool]:
    """Apply one op in its own transaction. Returns the ack and whether the server now holds
    exactly the op's record (then the pull need not echo it back)."""
    last: Exception | None = None
    for _attempt in range(5):
        try:
            with session_scope(engine, write=True) as session:
                lock_writers(session)
                repo = SqlRepo(session, caller, scope)
                assert caller.user.id is not None
                ctx = Context(caller.user.id, caller.device.id, SERVER_CLOCK.now())
                ack = apply_op(repo, op, ctx)
                same = False
                if ack.status == "applied" and isinstance(op, Op):
                    snap = repo.snapshot(ack.record_id, ack.rev)
                    same = snap is not None and snap == normalize(op.data)
                return ack, same
        except (IntegrityError, OperationalError) as exc:
            # A racing identical op committed first (unique op_id), or the database was busy
            # or picked us as a deadlock victim: run again; a replay then finds the stored ack.
            log.info("retrying op %s after %s", op.op_id, type(exc).__name__)
            last = exc
    assert last is not None
    raise last


def resolve_conflict(
    engine: Engine, conflict_id: int, choices: dict, resolver_id: int, scope: Scope
) -> SyncConflict:
    """Apply a supervisor's choice as a new revision stamped by the server clock."""
    from sync.merge import resolve

    with session_scope(engine, write=True) as session:
        lock_writers(session)
        row = session.get(SyncConflict, conflict_id)
        if row is None:
            raise LookupError(conflict_id)
        insp = session.get(Inspection, row.inspection_id)
        assert insp is not None
        serializer = Serializer(session)
        snap = session.get(InspectionRevision, (insp.id, insp.rev))
        data = serializer.record(insp, snap.data if snap else None)
        for key in _SERVER_ONLY:
            data.pop(key, None)
        merged, clocks = resolve(
            normalize(data), dict(insp.field_hlc or {}), choices, SERVER_CLOCK.now().encode()
        )
        rev = insp.rev + 1
        insp.answers, insp.notes, insp.gps = merged["answers"], merged["notes"], merged["gps"]
        insp.started_at = _dt(merged["started_at"])
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
        return row
