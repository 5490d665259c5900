"""sync.apply.Repo for one /api/sync request: reads from the batch's cache (sync_cache),
writes into its staging (sync_stage), and applies the ops in order.

Fast path: everything prefetched, every op's writes staged, one flush at the end. Careful
path (`careful=True`, after the fast path failed): each op runs in a SAVEPOINT with its
writes flushed inside it, so an op the database refuses is rolled back alone and answered
with a quarantine row and a `rejected` ack (sync.apply.reject_failed). Transient database
errors are not caught here: the retry loop (sync_store.apply_batch) runs the whole request
again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, select

from server.clock import parse_iso
from server.domain.followups import PENDING
from server.domain.rules import evaluate
from server.models import Quarantine, SyncConflict
from server.services.devices import Caller
from server.services.inspections import apply_outcome, template_for
from server.services.scope import Scope
from server.services.summaries import refresh_points
from server.services.sync_cache import BatchCache
from server.services.sync_prepare import Prepared
from server.services.sync_pull import Serializer
from server.services.sync_stage import Staging
from server.services.sync_write import SERVER_CLOCK, SERVER_ONLY_FIELDS
from sync.apply import Context, Current, StoredAck, apply_op, reject_failed
from sync.errors import Rejection
from sync.merge import MergeResult
from sync.messages import Ack, BadOp, Op
from sync.records import normalize
from sync.text import scrub

log = logging.getLogger("xunjian.sync")
TRANSIENT = (IntegrityError, OperationalError)


class BatchRepo(BatchCache):
    """sync.apply.Repo over one request's transaction, with the request's reads cached and
    its writes staged. `careful` flushes after every op."""

    def __init__(
        self,
        session: Session,
        caller: Caller,
        scope: Scope,
        careful: bool,
        prepared: Prepared | None = None,
    ) -> None:
        super().__init__(session, scope, prepared or Prepared())
        self.caller = caller
        self.careful = careful
        self.serializer = Serializer(session)
        self.staged = Staging()
        # points whose summaries to refresh once the batch is written (kept over a
        # savepoint rollback: refreshing a point that did not change writes nothing)
        self.summary_points: set[int] = set()
        self.saving: Op | None = None  # the op whose record save_record is storing

    def _reset(self) -> None:
        """Forget everything read or staged (after a savepoint rollback)."""
        self.forget()
        self.staged.clear()

    # -- sync.apply.Repo

    def stored_ack(self, op_id: str) -> StoredAck | None:
        return self.ack(op_id)

    def record(self, record_id: str) -> Current | None:
        row = self.row(record_id)
        if row is None:
            return None
        snap = self.snapshot(record_id, row.rev)
        data = self.serializer.record(row, snap)  # type: ignore[arg-type]
        for key in SERVER_ONLY_FIELDS:
            data.pop(key, None)
        return Current(normalize(data), row.rev, dict(row.field_hlc or {}), row.inspector_id)

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
        pre = self.prepared.op(op.data)
        if pre is not None and (rec is pre.record or rec == pre.record):
            rec = pre.record  # the same record, with its JSON text worked out already
        now = datetime.now(UTC)
        row = self.row(op.record_id)
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
        row.echo_device = None  # until apply_all knows the device holds what is stored
        self.snaps[(op.record_id, rev)] = rec
        self.staged.revisions.append(
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
        point = self.point(row.point_id)
        point.submit(row.id, row.submitted_at if row.status == "submitted" else None)
        self.load_blobs({p["sha256"] for p in row.photos or []})
        self.saving = op
        try:
            apply_outcome(row, _BatchFacts(self))
        finally:
            self.saving = None
        self.staged.stamp("inspection", row)

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
        self.staged.ops.append(
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
        raw = scrub(raw)  # the refused op may hold a NUL or lone surrogate: keep a storable copy
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

    # -- the batch

    def flush(self, final: bool = False) -> None:
        """Write everything staged (sync_stage.Staging.flush)."""
        self.staged.flush(self.session, self.in_db, final, self.prepared.texts)

    def apply_all(self, ops: Sequence[Op | BadOp]) -> list[Ack]:
        if not self.careful:
            self.prefetch(ops)
        out = []
        for op in ops:
            assert self.caller.user.id is not None
            ctx = Context(self.caller.user.id, self.caller.device.id, SERVER_CLOCK.now())
            digest = self.prepared.digest(op)
            if self.careful:
                ack = self._apply_careful(op, ctx, digest)
            else:
                ack = apply_op(self, op, ctx, digest, self._record(op))
                self._mark_echo(op, ack)
            out.append(ack)
        self.flush(final=True)
        refresh_points(self.session, self.summary_points)
        return out

    def _apply_careful(self, op: Op | BadOp, ctx: Context, digest: str) -> Ack:
        try:
            with self.session.begin_nested():
                ack = apply_op(self, op, ctx, digest, self._record(op))
                self._mark_echo(op, ack)
                self.flush()
            return ack
        except TRANSIENT:
            raise
        except Exception:
            log.exception("op %s could not be applied; quarantined", op.op_id)
            self._reset()
        with self.session.begin_nested():
            ack = reject_failed(self, op, ctx, digest)
            self.flush()
        return ack

    def _mark_echo(self, op: Op | BadOp, ack: Ack) -> None:
        """A record this op stored exactly as the device sent it: the device's pulls leave
        it out, this answer's and every later one, while nothing else changes it
        (models.Inspection.echo_device; Staging numbers it at the flush)."""
        row = self.rows.get(ack.record_id)
        if row is not None and id(row) in self.staged.dirty and self._same(op, ack):
            row.echo_device = self.caller.device.id

    def _record(self, op: Op | BadOp) -> dict | None:
        """The op's record normalised before the lock (sync_prepare), if it was."""
        pre = self.prepared.op(op.data) if isinstance(op, Op) else None
        return None if pre is None else pre.record

    def _same(self, op: Op | BadOp, ack: Ack) -> bool:
        """Does the server now hold exactly the op's record?"""
        if ack.status != "applied" or not isinstance(op, Op):
            return False
        snap = self.snapshot(ack.record_id, ack.rev)
        pre = self.prepared.op(op.data)
        if pre is not None and snap is pre.record:
            return True
        return snap is not None and snap == normalize(op.data)


class _BatchFacts:
    """inspections.OutcomeFacts over a BatchRepo's caches."""

    def __init__(self, repo: BatchRepo) -> None:
        self.repo = repo

    def template(self, version_id: int) -> Any:
        # template_for reads the version's whole content each time: once per batch is enough
        found = self.repo.prepared.templates.get(version_id)
        if found is None:
            found = self.repo.prepared.templates[version_id] = template_for(
                self.repo.session, version_id
            )
        return found

    def evaluate(self, template: Any, inspection: Any) -> dict:
        """The verdict worked out before the lock, if the record being stored still has the
        op's own answers and photos on the same checklist version (a merge with the server's
        copy may have changed them: then the rules run again here)."""
        op = self.repo.saving
        pre = self.repo.prepared.op(op.data) if op is not None else None
        if (
            pre is not None
            and pre.result is not None
            and pre.version_id == inspection.template_version_id
            and pre.record["answers"] == (inspection.answers or {})
            and pre.record["photos"] == (inspection.photos or [])
        ):
            return pre.result
        return evaluate(template, inspection.answers or {}, inspection.photos or [])

    def complete_blobs(self, shas: set[str]) -> set[str]:
        return {s for s in shas if self.repo.blobs.get(s)}

    def later_submitted(self, inspection: Any) -> bool:
        # the latest is this one, or else it is later than this one only if another is
        latest = self.repo.point(inspection.point_id).latest()
        return (
            latest is not None
            and latest[1] != inspection.id
            and latest[0] > inspection.submitted_at
        )

    def open_follow_ups(self, point_id: int) -> dict[str, Any]:
        return self.repo.point(point_id).open  # read only (OutcomeFacts), changed by stamp

    def manager(self, point_id: int) -> tuple[str, str]:
        return self.repo.point(point_id).manager

    def new_follow_up(self, **columns: Any) -> SimpleNamespace:
        return SimpleNamespace(
            id=None,
            status="open",
            closed_by=None,
            closed_at=None,
            closed_user_id=None,
            fixed_at=None,
            evidence=[],
            note="",
            seq=0,
            **columns,
        )

    def stamp(self, rows: list[Any]) -> None:
        for f in rows:
            state = self.repo.point(f.point_id).open
            if f.status in PENDING:
                state[f.item_key] = f
            elif state.get(f.item_key) is f:
                del state[f.item_key]
            self.repo.staged.stamp("follow_up", f)

    def is_latest(self, inspection: Any) -> bool:
        latest = self.repo.point(inspection.point_id).latest()
        return latest is None or latest <= (inspection.submitted_at, inspection.id)

    def touch_point(self, point_id: int) -> None:
        self.repo.staged.stamp("point", self.repo.point(point_id).row)
