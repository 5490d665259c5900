"""What a sync batch reads, loaded once: stored acks, the records and the snapshots of their
current revisions, the photos held, and per point its latest submitted inspection and open
follow-ups.

Why up front: a batch of 500 ops read row by row would make thousands of round trips while
holding the writer lock. `prefetch` reads each table with a few `IN (...)` queries; anything
an op needs that was not prefetched (the careful path prefetches nothing) is loaded on the
miss, so the cache is never wrong, only sometimes slower. A key is marked "absent" before
its query runs, so a row that does not exist is looked up once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from functools import partial
from types import SimpleNamespace
from typing import Any

from sqlalchemy import tuple_
from sqlmodel import Session, select

from server.db import chunked
from server.domain.followups import PENDING
from server.models import Blob, FollowUp, Inspection, InspectionRevision, ServicePoint, SyncOp
from server.services.latest import latest_submitted
from server.services.scope import Scope
from server.services.sync_checks import Checker, Resolved
from server.services.sync_prepare import Prepared
from sync.apply import StoredAck
from sync.messages import Ack, BadOp, Op

INSP = Inspection.__table__
FOLLOW = FollowUp.__table__


class PointState:
    """What the follow-up rule and the point's summary need of one point: its latest submitted
    inspection, its open follow-ups by item, and the row staged to give the point a new change
    sequence number.

    Only the stored latest inspection is read up front (services/latest.py): an op that makes
    its own inspection the latest needs nothing else. Only when the latest stops being it
    (withdrawn, or moved back in time) are the point's other submitted inspections read, by
    `more`, with the batch's own changes laid over them."""

    __slots__ = ("_latest", "_more", "changed", "manager", "open", "row", "submitted")

    def __init__(self, point_id: int, more: Callable[[], Iterable[tuple[str, datetime]]]) -> None:
        self.submitted: dict[str, datetime] = {}  # as far as read; change it with `submit`
        self.changed: dict[str, datetime | None] = {}  # by this batch (None: not submitted)
        self.open: dict[str, Any] = {}
        self.manager = ("", "")  # the point's manager: who a new follow-up names
        self.row = SimpleNamespace(id=point_id, seq=0)
        self._latest: tuple[datetime, str] | None = None  # known, else worked out on demand
        self._more: Callable[[], Iterable[tuple[str, datetime]]] | None = more  # the rest

    def stored(self, inspection_id: str, at: datetime) -> None:
        """The database's latest submitted inspection of the point."""
        self.submitted[inspection_id] = at
        self._latest = (at, inspection_id)

    def submit(self, inspection_id: str, at: datetime | None) -> None:
        """The inspection is now submitted at `at` (None: it is not submitted)."""
        self.changed[inspection_id] = at
        mine = None if at is None else (at, inspection_id)
        if at is None:
            self.submitted.pop(inspection_id, None)
        else:
            self.submitted[inspection_id] = at
        latest = self._latest
        if latest is None:
            return
        if mine is not None and mine >= latest:
            self._latest = mine
        elif latest[1] == inspection_id:
            self._latest = None  # the latest moved back or went: work it out again

    def latest(self) -> tuple[datetime, str] | None:
        """(submitted_at, id) of the point's latest submitted inspection. Kept as the batch
        goes, so asking for each op of a point is not a walk over all its inspections."""
        if self._latest is None and self._more is not None:
            self.submitted.update(self._more())
            self._more = None
            for iid, at in self.changed.items():
                if at is None:
                    self.submitted.pop(iid, None)
                else:
                    self.submitted[iid] = at
        if self._latest is None and self.submitted:
            self._latest = max((at, iid) for iid, at in self.submitted.items())
        return self._latest


class BatchCache:
    """One request's reads. Rows are SimpleNamespaces the batch then edits in place."""

    def __init__(self, session: Session, scope: Scope, prepared: Prepared) -> None:
        self.session = session
        self.prepared = prepared
        self.checker = Checker(session, scope.subtree, prepared)
        self.forget()

    def forget(self) -> None:
        """Drop everything read (after a savepoint rollback the cache may be ahead of the
        database)."""
        self.acks: dict[str, StoredAck | None] = {}
        self.rows: dict[str, SimpleNamespace | None] = {}
        self.in_db: set[str] = set()
        self.snaps: dict[tuple[str, int], dict | None] = {}
        self.blobs: dict[str, bool] = {}
        self.points: dict[int, PointState] = {}
        self.resolved: dict[str, Resolved] = {}

    def prefetch(self, ops: Sequence[Op | BadOp]) -> None:
        good = [op for op in ops if isinstance(op, Op)]
        self.load_acks({op.op_id for op in ops} | {o.base_op_id for o in good if o.base_op_id})
        self.load_rows({op.record_id for op in ops if op.record_id})
        self.checker.prefetch(op.data["point_code"] for op in good)
        self.load_blobs({p["sha256"] for op in good for p in op.data.get("photos") or []})
        point_ids = {r.point_id for r in self.rows.values() if r is not None}
        for op in good:
            point = self.checker.point(op.data["point_code"])
            if point is not None:
                point_ids.add(point.id)
        self.load_points(point_ids)

    def load_acks(self, op_ids: set[str]) -> None:
        todo = {k for k in op_ids if k not in self.acks}
        if not todo:
            return
        conn = self.session.connection()
        t = SyncOp.__table__
        for part in chunked(todo):
            self.acks.update(dict.fromkeys(part))
            rows = conn.execute(
                select(t.c.op_id, t.c.ack, t.c.body_hash, t.c.user_id).where(t.c.op_id.in_(part))
            )
            for op_id, ack, digest, user_id in rows:
                self.acks[op_id] = StoredAck(Ack.from_json(ack), digest, user_id)

    def load_rows(self, record_ids: set[str]) -> None:
        todo = {k for k in record_ids if k not in self.rows}
        if not todo:
            return
        conn = self.session.connection()
        current: list[tuple[str, int]] = []
        for part in chunked(todo):
            self.rows.update(dict.fromkeys(part))
            for row in conn.execute(select(INSP).where(INSP.c.id.in_(part))):
                self.rows[row.id] = SimpleNamespace(**row._mapping)
                self.in_db.add(row.id)
                current.append((row.id, row.rev))
        self.load_snaps(current)

    def load_snaps(self, keys: list[tuple[str, int]]) -> None:
        todo = [k for k in keys if k not in self.snaps]
        if not todo:
            return
        conn = self.session.connection()
        t = InspectionRevision.__table__
        for part in chunked(todo):
            self.snaps.update(dict.fromkeys(part))
            rows = conn.execute(
                select(t.c.inspection_id, t.c.rev, t.c.data).where(
                    tuple_(t.c.inspection_id, t.c.rev).in_(part)
                )
            )
            for rid, rev, data in rows:
                self.snaps[(rid, rev)] = data

    def load_blobs(self, shas: set[str]) -> None:
        todo = {k for k in shas if k not in self.blobs}
        if not todo:
            return
        conn = self.session.connection()
        t = Blob.__table__
        for part in chunked(todo):
            self.blobs.update(dict.fromkeys(part, False))
            rows = conn.execute(
                select(t.c.sha256).where(t.c.sha256.in_(part), t.c.complete.is_(True))
            )
            for (sha,) in rows:
                self.blobs[sha] = True

    def load_points(self, point_ids: set[int]) -> None:
        todo = {k for k in point_ids if k not in self.points}
        if not todo:
            return
        conn = self.session.connection()
        for part in chunked(todo):
            for pid in part:
                self.points[pid] = PointState(pid, partial(self._submitted, pid))
            for pid, iid, at in latest_submitted(conn, part):
                self.points[pid].stored(iid, at)
            rows = conn.execute(
                select(FOLLOW)
                .where(FOLLOW.c.point_id.in_(part), FOLLOW.c.status.in_(sorted(PENDING)))
                .order_by(FOLLOW.c.id)
            )
            for row in rows:
                self.points[row.point_id].open[row.item_key] = SimpleNamespace(**row._mapping)
            point = ServicePoint.__table__
            rows = conn.execute(
                select(point.c.id, point.c.manager_name, point.c.manager_phone).where(
                    point.c.id.in_(part)
                )
            )
            for pid, name, phone in rows:
                self.points[pid].manager = (name or "", phone or "")

    def _submitted(self, point_id: int) -> Iterator[tuple[str, datetime]]:
        """Every submitted inspection of the point, as stored."""
        yield from self.session.connection().execute(
            select(INSP.c.id, INSP.c.submitted_at).where(
                INSP.c.point_id == point_id,
                INSP.c.status == "submitted",
                INSP.c.submitted_at.is_not(None),
            )
        )

    def row(self, record_id: str) -> SimpleNamespace | None:
        if record_id not in self.rows:
            self.load_rows({record_id})
        return self.rows[record_id]

    def point(self, point_id: int) -> PointState:
        if point_id not in self.points:
            self.load_points({point_id})
        return self.points[point_id]

    def ack(self, op_id: str) -> StoredAck | None:
        if op_id not in self.acks:
            self.load_acks({op_id})
        return self.acks[op_id]

    def snapshot(self, record_id: str, rev: int) -> dict | None:
        if (record_id, rev) not in self.snaps:
            self.load_snaps([(record_id, rev)])
        return self.snaps[(record_id, rev)]
