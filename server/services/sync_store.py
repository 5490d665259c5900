"""The database side of sync.apply: one transaction per /api/sync request, writers
serialised, every op atomic on its own.

Why serialise: two devices pushing edits to one record must not both merge against the same
revision (a lost update), and two identical requests racing must meet as "first applies,
second replays". On PostgreSQL the request's transaction first takes a transaction-scoped
advisory lock; on SQLite it starts with BEGIN IMMEDIATE. The unique op_id row is the
backstop: if a racing copy still slips through, its insert fails, the transaction rolls back
and the retry finds the stored ack.

How a request is applied (`apply_batch`):
- One transaction and one writer lock for the whole request. Requests hold at most
  `limits.max_ops` ops, so the lock is held for a bounded time (docs/benchmarks.md, "Sync",
  has the figure for 500 full inspections).
- Fast path: what the batch will read is loaded up front in a few queries (stored acks, the
  records and their current revisions, the points, the photos held, the points' follow-up
  state and submitted inspections). Each op is applied against those caches and its writes
  are staged in memory; at the end they go to the database with one statement per table,
  and every changed row (inspections, follow-ups, and points whose latest-inspection summary
  changed, services/inspections.py) takes its change sequence number from one counter UPDATE
  (the counter row stays locked till commit, so seq order is still commit order;
  services/changes.py). A rejected op stages only its quarantine row and rejected ack. An
  op whose apply *raises* abandons the attempt.
- Careful path: if the fast path failed with anything but a transient database error, the
  request runs again op by op, each op in a SAVEPOINT with its writes flushed inside it. An
  op that still fails is rolled back alone, then its quarantine row and `rejected` ack are
  written (sync.apply.reject_failed): one op the server cannot store (say a NUL character
  PostgreSQL refuses) never blocks a device's outbox.
- IntegrityError / OperationalError (a racing copy, busy, a deadlock victim): the whole
  request rolls back and runs again; replays then find the stored acks.
The ack of every op is stored in the same transaction as its change. A crash before commit
loses the whole batch's acks together, which is safe: the client keeps every unacked op and
sends it again, byte for byte.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Engine, bindparam, insert, text, tuple_, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, select

from server.db import session_scope
from server.models import (
    Blob,
    FollowUp,
    Inspection,
    InspectionRevision,
    Quarantine,
    ServicePoint,
    SyncConflict,
    SyncOp,
)
from server.services.changes import reserve_seq
from server.services.devices import Caller
from server.services.inspections import apply_outcome, template_for
from server.services.scope import Scope
from server.services.summaries import refresh_points
from server.services.sync_checks import CHUNK, Checker, Resolved
from server.services.sync_pull import Serializer
from sync import hlc
from sync.apply import Context, Current, StoredAck, apply_op, reject_failed
from sync.errors import Rejection
from sync.merge import MergeResult
from sync.messages import Ack, BadOp, Op
from sync.records import normalize

log = logging.getLogger("xunjian.sync")
LOCK_KEY = 0x58554E4A  # "XUNJ": one advisory lock for every sync writer
SERVER_CLOCK = hlc.Clock("server")
ATTEMPTS = 5
SERVER_ONLY_FIELDS = ("rev", "rating", "result", "evidence_complete", "evidence_pending")
_TRANSIENT = (IntegrityError, OperationalError)

INSP = Inspection.__table__
FOLLOW = FollowUp.__table__
POINT = ServicePoint.__table__
_INSP_UPDATE = (
    "cycle_id",
    "device_id",
    "status",
    "answers",
    "photos",
    "gps",
    "notes",
    "started_at",
    "submitted_at",
    "updated_at",
    "rev",
    "field_hlc",
    "result",
    "rating",
    "evidence_complete",
    "seq",
)
_FOLLOW_COLS = tuple(c.key for c in FOLLOW.c if c.key != "id")
_FOLLOW_UPDATE = ("status", "closed_by", "closed_at", "seq")


def lock_writers(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})


def parse_iso(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _chunks(values: Iterable[Any]) -> Iterable[list[Any]]:
    todo = sorted(values)
    for start in range(0, len(todo), CHUNK):
        yield todo[start : start + CHUNK]


class _PointState:
    """What the follow-up rule and the point's summary need of one point: when its submitted
    inspections were submitted, its open follow-ups by item, and the row staged to give the
    point a new change sequence number."""

    __slots__ = ("open", "row", "submitted")

    def __init__(self, point_id: int) -> None:
        self.submitted: dict[str, datetime] = {}
        self.open: dict[str, Any] = {}
        self.row = SimpleNamespace(id=point_id, seq=0)


class BatchRepo:
    """sync.apply.Repo over one request's transaction, with the request's reads cached and
    its writes staged (see the module docstring). `careful` flushes after every op."""

    def __init__(self, session: Session, caller: Caller, scope: Scope, careful: bool) -> None:
        self.session = session
        self.caller = caller
        self.careful = careful
        self.checker = Checker(session, scope.subtree)
        self.serializer = Serializer(session)
        # points whose summaries to refresh once the batch is written (kept over a
        # savepoint rollback: refreshing a point that did not change writes nothing)
        self.summary_points: set[int] = set()
        self._reset()

    def _reset(self) -> None:
        """Forget everything read or staged (after a savepoint rollback)."""
        self.acks: dict[str, StoredAck | None] = {}
        self.rows: dict[str, SimpleNamespace | None] = {}
        self.in_db: set[str] = set()
        self.snaps: dict[tuple[str, int], dict | None] = {}
        self.blobs: dict[str, bool] = {}
        self.points: dict[int, _PointState] = {}
        self.resolved: dict[str, Resolved] = {}
        # id(row) -> (table, row), in stamping order; each row takes one seq at flush
        self.dirty: dict[int, tuple[str, SimpleNamespace]] = {}
        self.revisions: list[dict] = []
        self.ops: list[dict] = []

    # -- loading: one query per table for a whole batch (fast path) or per miss (careful)

    def prefetch(self, ops: Sequence[Op | BadOp]) -> None:
        good = [op for op in ops if isinstance(op, Op)]
        self._load_acks({op.op_id for op in ops} | {o.base_op_id for o in good if o.base_op_id})
        self._load_rows({op.record_id for op in ops if op.record_id})
        self.checker.prefetch(op.data["point_code"] for op in good)
        self._load_blobs({p["sha256"] for op in good for p in op.data.get("photos") or []})
        point_ids = {r.point_id for r in self.rows.values() if r is not None}
        for op in good:
            point = self.checker.point(op.data["point_code"])
            if point is not None:
                point_ids.add(point.id)
        self._load_points(point_ids)

    def _load_acks(self, op_ids: set[str]) -> None:
        todo = {k for k in op_ids if k not in self.acks}
        conn = self.session.connection()
        t = SyncOp.__table__
        for part in _chunks(todo):
            self.acks.update(dict.fromkeys(part))
            rows = conn.execute(
                select(t.c.op_id, t.c.ack, t.c.body_hash, t.c.user_id).where(t.c.op_id.in_(part))
            )
            for op_id, ack, digest, user_id in rows:
                self.acks[op_id] = StoredAck(Ack.from_json(ack), digest, user_id)

    def _load_rows(self, record_ids: set[str]) -> None:
        todo = {k for k in record_ids if k not in self.rows}
        conn = self.session.connection()
        current: list[tuple[str, int]] = []
        for part in _chunks(todo):
            self.rows.update(dict.fromkeys(part))
            for row in conn.execute(select(INSP).where(INSP.c.id.in_(part))):
                self.rows[row.id] = SimpleNamespace(**row._mapping)
                self.in_db.add(row.id)
                current.append((row.id, row.rev))
        self._load_snaps(current)

    def _load_snaps(self, keys: list[tuple[str, int]]) -> None:
        todo = [k for k in keys if k not in self.snaps]
        conn = self.session.connection()
        t = InspectionRevision.__table__
        for part in _chunks(todo):
            self.snaps.update(dict.fromkeys(part))
            rows = conn.execute(
                select(t.c.inspection_id, t.c.rev, t.c.data).where(
                    tuple_(t.c.inspection_id, t.c.rev).in_(part)
                )
            )
            for rid, rev, data in rows:
                self.snaps[(rid, rev)] = data

    def _load_blobs(self, shas: set[str]) -> None:
        todo = {k for k in shas if k not in self.blobs}
        conn = self.session.connection()
        t = Blob.__table__
        for part in _chunks(todo):
            self.blobs.update(dict.fromkeys(part, False))
            rows = conn.execute(
                select(t.c.sha256).where(t.c.sha256.in_(part), t.c.complete.is_(True))
            )
            for (sha,) in rows:
                self.blobs[sha] = True

    def _load_points(self, point_ids: set[int]) -> None:
        todo = {k for k in point_ids if k not in self.points}
        conn = self.session.connection()
        for part in _chunks(todo):
            for pid in part:
                self.points[pid] = _PointState(pid)
            rows = conn.execute(
                select(INSP.c.point_id, INSP.c.id, INSP.c.submitted_at).where(
                    INSP.c.point_id.in_(part),
                    INSP.c.status == "submitted",
                    INSP.c.submitted_at.is_not(None),
                )
            )
            for pid, iid, at in rows:
                self.points[pid].submitted[iid] = at
            rows = conn.execute(
                select(FOLLOW)
                .where(FOLLOW.c.point_id.in_(part), FOLLOW.c.status == "open")
                .order_by(FOLLOW.c.id)
            )
            for row in rows:
                self.points[row.point_id].open[row.item_key] = SimpleNamespace(**row._mapping)

    def _row(self, record_id: str) -> SimpleNamespace | None:
        if record_id not in self.rows:
            self._load_rows({record_id})
        return self.rows[record_id]

    def _point(self, point_id: int) -> _PointState:
        if point_id not in self.points:
            self._load_points({point_id})
        return self.points[point_id]

    # -- sync.apply.Repo

    def stored_ack(self, op_id: str) -> StoredAck | None:
        if op_id not in self.acks:
            self._load_acks({op_id})
        return self.acks[op_id]

    def record(self, record_id: str) -> Current | None:
        row = self._row(record_id)
        if row is None:
            return None
        snap = self.snapshot(record_id, row.rev)
        data = self.serializer.record(row, snap)  # type: ignore[arg-type]
        for key in SERVER_ONLY_FIELDS:
            data.pop(key, None)
        return Current(normalize(data), row.rev, dict(row.field_hlc or {}), row.inspector_id)

    def snapshot(self, record_id: str, rev: int) -> dict | None:
        if (record_id, rev) not in self.snaps:
            self._load_snaps([(record_id, rev)])
        return self.snaps[(record_id, rev)]

    def check(self, data: dict, current: Current | None, ctx: Context) -> Rejection | None:
        found = self.checker.check(data, new=current is None)
        if isinstance(found, Rejection):
            return found
        self.resolved[data["id"]] = found
        return None

    def save_record(
        self, op: Op, result: MergeResult, rev: int, current: Current | None, ctx: Context
    ) -> None:
        rec = result.record
        now = datetime.now(UTC)
        row = self._row(op.record_id)
        if row is None:
            where = self.resolved[op.record_id]
            row = SimpleNamespace(
                id=op.record_id,
                point_id=where.point_id,
                template_version_id=where.version_id,
                inspector_id=ctx.user_id,
                created_at=now,
                seq=0,
            )
            self.rows[op.record_id] = row
        row.cycle_id = rec["cycle_id"]
        row.device_id = rec["device_id"] or ctx.device_id
        row.status = rec["status"]
        row.answers, row.photos, row.gps = rec["answers"], rec["photos"], rec["gps"]
        row.notes = rec["notes"]
        row.started_at = parse_iso(rec["started_at"])
        row.submitted_at = parse_iso(rec["submitted_at"])
        row.rev, row.field_hlc = rev, result.clocks
        row.updated_at = now
        self.snaps[(op.record_id, rev)] = rec
        self.revisions.append(
            {
                "inspection_id": op.record_id,
                "rev": rev,
                "data": rec,
                "op_id": op.op_id,
                "device_id": ctx.device_id,
                "created_at": now,
            }
        )
        self.summary_points.add(row.point_id)
        point = self._point(row.point_id)
        if row.status == "submitted" and row.submitted_at is not None:
            point.submitted[row.id] = row.submitted_at
        else:
            point.submitted.pop(row.id, None)
        self._load_blobs({p["sha256"] for p in row.photos or []})
        apply_outcome(row, _BatchFacts(self))
        self._stamp("inspection", row)

    def add_conflict(
        self, op: Op, current: Current, result: MergeResult, rev: int, ctx: Context
    ) -> int:
        self.flush()  # the conflict row refers to the inspection, which may be staged
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
        self.acks[ack.op_id] = StoredAck(ack, body_hash, ctx.user_id)
        self.ops.append(
            {
                "op_id": ack.op_id,
                "user_id": ctx.user_id,
                "device_id": ctx.device_id,
                "record_id": ack.record_id,
                "body_hash": body_hash,
                "status": ack.status,
                "ack": ack.to_json(),
                "created_at": datetime.now(UTC),
            }
        )

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

    # -- writing

    def _stamp(self, table: str, row: SimpleNamespace) -> None:
        self.dirty.pop(id(row), None)
        self.dirty[id(row)] = (table, row)

    def flush(self, final: bool = False) -> None:
        """Write everything staged: one counter UPDATE gives every changed row its seq (in
        the order the rows were stamped), then one statement per table. New follow-ups learn
        their ids unless this is the batch's last flush (RETURNING makes the driver send
        one large multi-row INSERT, slow to prepare on PostgreSQL)."""
        conn = self.session.connection()
        if self.dirty:
            staged = list(self.dirty.values())
            first = reserve_seq(self.session, len(staged)) - len(staged) + 1
            for n, (_, row) in enumerate(staged):
                row.seq = first + n
            rows = [r for table, r in staged if table == "inspection"]
            follows = [r for table, r in staged if table == "follow_up"]
            points = [r for table, r in staged if table == "point"]
            new = [r for r in rows if r.id not in self.in_db]
            old = [r for r in rows if r.id in self.in_db]
            if new:
                conn.execute(insert(INSP), [vars(r) for r in new])
                self.in_db.update(r.id for r in new)
            if old:
                conn.execute(
                    update(INSP).where(INSP.c.id == bindparam("b_id")),
                    [{"b_id": r.id, **{c: getattr(r, c) for c in _INSP_UPDATE}} for r in old],
                )
            created = [f for f in follows if f.id is None]
            changed = [f for f in follows if f.id is not None]
            if created and final:
                conn.execute(
                    insert(FOLLOW), [{c: getattr(f, c) for c in _FOLLOW_COLS} for f in created]
                )
            elif created:
                ids = conn.execute(
                    insert(FOLLOW).returning(FOLLOW.c.id, sort_by_parameter_order=True),
                    [{c: getattr(f, c) for c in _FOLLOW_COLS} for f in created],
                ).scalars()
                for f, new_id in zip(created, ids, strict=True):
                    f.id = new_id
            if changed:
                conn.execute(
                    update(FOLLOW).where(FOLLOW.c.id == bindparam("b_id")),
                    [{"b_id": f.id, **{c: getattr(f, c) for c in _FOLLOW_UPDATE}} for f in changed],
                )
            if points:
                conn.execute(
                    update(POINT).where(POINT.c.id == bindparam("b_id")),
                    [{"b_id": p.id, "seq": p.seq} for p in points],
                )
            self.dirty.clear()
        if self.revisions:
            conn.execute(insert(InspectionRevision.__table__), self.revisions)
            self.revisions = []
        if self.ops:
            conn.execute(insert(SyncOp.__table__), self.ops)
            self.ops = []

    # -- the batch

    def apply_all(self, ops: Sequence[Op | BadOp]) -> list[tuple[Ack, bool]]:
        if not self.careful:
            self.prefetch(ops)
        out = []
        for op in ops:
            assert self.caller.user.id is not None
            ctx = Context(self.caller.user.id, self.caller.device.id, SERVER_CLOCK.now())
            ack = self._apply_careful(op, ctx) if self.careful else apply_op(self, op, ctx)
            out.append((ack, self._same(op, ack)))
        self.flush(final=True)
        refresh_points(self.session, self.summary_points)
        return out

    def _apply_careful(self, op: Op | BadOp, ctx: Context) -> Ack:
        try:
            with self.session.begin_nested():
                ack = apply_op(self, op, ctx)
                self.flush()
            return ack
        except _TRANSIENT:
            raise
        except Exception:
            log.exception("op %s could not be applied; quarantined", op.op_id)
            self._reset()
        with self.session.begin_nested():
            ack = reject_failed(self, op, ctx)
            self.flush()
        return ack

    def _same(self, op: Op | BadOp, ack: Ack) -> bool:
        """Does the server now hold exactly the op's record (so the pull need not echo it)?"""
        if ack.status != "applied" or not isinstance(op, Op):
            return False
        snap = self.snapshot(ack.record_id, ack.rev)
        return snap is not None and snap == normalize(op.data)


class _BatchFacts:
    """inspections.OutcomeFacts over a BatchRepo's caches."""

    def __init__(self, repo: BatchRepo) -> None:
        self.repo = repo

    def template(self, version_id: int) -> Any:
        return template_for(self.repo.session, version_id)

    def complete_blobs(self, shas: set[str]) -> set[str]:
        return {s for s in shas if self.repo.blobs.get(s)}

    def later_submitted(self, inspection: Any) -> bool:
        mine = inspection.submitted_at
        state = self.repo._point(inspection.point_id)
        return any(at > mine for iid, at in state.submitted.items() if iid != inspection.id)

    def open_follow_ups(self, point_id: int) -> dict[str, Any]:
        return dict(self.repo._point(point_id).open)

    def new_follow_up(self, **columns: Any) -> SimpleNamespace:
        return SimpleNamespace(
            id=None, status="open", closed_by=None, closed_at=None, seq=0, **columns
        )

    def stamp(self, rows: list[Any]) -> None:
        for f in rows:
            state = self.repo._point(f.point_id).open
            if f.status == "open":
                state[f.item_key] = f
            elif state.get(f.item_key) is f:
                del state[f.item_key]
            self.repo._stamp("follow_up", f)

    def is_latest(self, inspection: Any) -> bool:
        mine = (inspection.submitted_at, inspection.id)
        state = self.repo._point(inspection.point_id)
        return all((at, iid) <= mine for iid, at in state.submitted.items())

    def touch_point(self, point_id: int) -> None:
        self.repo._stamp("point", self.repo._point(point_id).row)


def apply_batch(
    engine: Engine, caller: Caller, scope: Scope, ops: Sequence[Op | BadOp]
) -> list[tuple[Ack, bool]]:
    """Apply a request's ops in one transaction (see the module docstring). Returns, per op,
    the ack and whether the server now holds exactly the op's record (then the pull need not
    echo it back)."""
    if not ops:
        return []
    careful = False
    last: Exception | None = None
    for _attempt in range(ATTEMPTS):
        try:
            with session_scope(engine, write=True) as session:
                session.connection()  # BEGIN (IMMEDIATE on SQLite): the writer lock from here
                began = time.perf_counter()
                lock_writers(session)
                out = BatchRepo(session, caller, scope, careful).apply_all(ops)
            held = (time.perf_counter() - began) * 1000
            log.debug(
                "applied %d ops, writer lock held %.1f ms",
                len(ops),
                held,
                extra={"ops": len(ops), "lock_ms": held, "careful": careful},
            )
            return out
        except _TRANSIENT as exc:
            # A racing identical op committed first (unique op_id), or the database was busy
            # or picked us as a deadlock victim: run again; a replay then finds the stored ack.
            log.info("retrying a batch of %d ops after %s", len(ops), type(exc).__name__)
            last = exc
        except Exception:
            if careful:
                raise
            log.warning("batch of %d ops failed; applying op by op", len(ops), exc_info=True)
            careful = True
    assert last is not None
    raise last
