"""Server-side apply of one op, independent of any database: the storage is a ``Repo``.

Exactly-once lives here. The ack of every op with a usable op id is stored next to the hash
of the op's body, inside the same transaction as the change it made. A replay (lost response,
duplicate request, two identical requests racing) finds that row and gets the stored ack back
without touching anything; the same op id with another body gets ``op_id_reused`` and its
copy goes to quarantine. The caller runs each ``apply_op`` atomically (the server: one
transaction per request holding a writer lock, see server/services/sync_store.py), so two
racing copies run one after the other and the second is a replay.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sync import hlc as hlc_mod
from sync.errors import Rejection
from sync.merge import MergeResult, merge
from sync.messages import Ack, BadOp, Op, ack_for_rejection


@dataclass(frozen=True)
class Context:
    """Who is pushing: the token's user and device, and the server's clock at receipt."""

    user_id: int
    device_id: str
    now: hlc_mod.Timestamp


@dataclass(frozen=True)
class StoredAck:
    ack: Ack
    body_hash: str
    user_id: int


@dataclass(frozen=True)
class Current:
    data: dict
    rev: int
    clocks: dict[str, str]
    owner_id: int


class Repo(Protocol):
    def stored_ack(self, op_id: str) -> StoredAck | None: ...

    def record(self, record_id: str) -> Current | None: ...

    def snapshot(self, record_id: str, rev: int) -> dict | None: ...

    def check(self, data: dict, current: Current | None, ctx: Context) -> Rejection | None:
        """Domain validation: point exists and is in scope, template fits, answers valid."""

    def save_record(
        self, op: Op, result: MergeResult, rev: int, current: Current | None, ctx: Context
    ) -> None: ...

    def add_conflict(
        self, op: Op, current: Current, result: MergeResult, rev: int, ctx: Context
    ) -> int: ...

    def store_ack(self, ack: Ack, body_hash: str, ctx: Context) -> None: ...

    def quarantine(
        self, op_id: str, body_hash: str, raw: dict, rej: Rejection, ctx: Context
    ) -> None: ...


def _reject(
    repo: Repo, op: Op | BadOp, rej: Rejection, ctx: Context, store: bool, digest: str
) -> Ack:
    current = repo.record(op.record_id) if op.record_id else None
    ack = ack_for_rejection(op.op_id, op.record_id, current.rev if current else 0, rej)
    raw = op.raw if isinstance(op, BadOp) else op.to_json()
    repo.quarantine(op.op_id, digest, raw, rej, ctx)
    if store:
        repo.store_ack(ack, digest, ctx)
    return ack


def _replay(repo: Repo, op: Op | BadOp, ctx: Context, digest: str) -> Ack | None:
    stored = repo.stored_ack(op.op_id)
    if stored is None:
        return None
    if stored.body_hash == digest and stored.user_id == ctx.user_id:
        return stored.ack
    rej = Rejection.of("op_id_reused", "op_id", op_id=op.op_id)
    return _reject(repo, op, rej, ctx, False, digest)


def reject_failed(repo: Repo, op: Op | BadOp, ctx: Context, digest: str | None = None) -> Ack:
    """An op whose apply raised, after the caller rolled back everything it wrote: keep it in
    quarantine and ack it ``rejected``, so that one op the server cannot store never blocks
    the device's outbox (nothing is lost: the quarantine row holds the op)."""
    digest = digest or op.body_hash()
    replayed = _replay(repo, op, ctx, digest)
    if replayed is not None:
        return replayed
    rej = Rejection.of("invalid_op", "data", detail="could not be stored by the server")
    return _reject(repo, op, rej, ctx, True, digest)


def apply_op(
    repo: Repo,
    op: Op | BadOp,
    ctx: Context,
    digest: str | None = None,
    record: dict | None = None,
) -> Ack:
    """Apply one op (or answer its replay). Never raises for a bad op: it is quarantined.
    ``digest`` and ``record``: the op's body hash and its record normalised, if the caller
    has them already (the server works them out before it takes the writer lock)."""
    digest = digest or op.body_hash()
    if isinstance(op, Op) and op.author is not None and op.author != ctx.user_id:
        # Another user's record under this token (a shared phone's buggy client): refused
        # and quarantined, but its ack is not stored, so its author can still send it later.
        mismatch = Rejection.of("author_mismatch", "author", author=op.author)
        return _reject(repo, op, mismatch, ctx, False, digest)
    replayed = _replay(repo, op, ctx, digest)
    if replayed is not None:
        return replayed
    if isinstance(op, BadOp):
        return _reject(repo, op, op.rejection, ctx, True, digest)

    current = repo.record(op.record_id)
    if current is not None and current.owner_id != ctx.user_id:
        return _reject(repo, op, Rejection.of("not_owner", "record_id"), ctx, True, digest)
    rej = repo.check(op.data, current, ctx)
    if rej is not None:
        return _reject(repo, op, rej, ctx, True, digest)

    base_rev = op.base_rev
    if op.base_op_id is not None:
        prev = repo.stored_ack(op.base_op_id)
        if prev is None or prev.user_id != ctx.user_id:
            rej = Rejection.of("unknown_base_op", "base_op_id", base_op_id=op.base_op_id)
            return _reject(repo, op, rej, ctx, True, digest)
        if prev.ack.status != "rejected":
            base_rev = max(base_rev, prev.ack.rev)

    if current is None and op.base_rev > 0:
        # a new record has no revision to build on (sync-protocol.md: `bad_base_rev`)
        rej = Rejection.of("bad_base_rev", "base_rev", base_rev=op.base_rev, rev=0)
        return _reject(repo, op, rej, ctx, True, digest)
    base: dict | None = None
    if current is not None:
        if base_rev > current.rev:
            rej = Rejection.of("bad_base_rev", "base_rev", base_rev=base_rev, rev=current.rev)
            return _reject(repo, op, rej, ctx, True, digest)
        if base_rev == current.rev:
            base = current.data
        elif base_rev > 0:
            base = repo.snapshot(op.record_id, base_rev)

    stamp = hlc_mod.clamp(op.hlc, ctx.now)
    result = merge(
        base,
        current.data if current else None,
        current.clocks if current else {},
        op.data,
        stamp,
        record,
    )
    if result.rejection is not None:
        return _reject(repo, op, result.rejection, ctx, True, digest)

    rev = current.rev if current else 0
    if result.changed:
        rev += 1
        repo.save_record(op, result, rev, current, ctx)
    conflict_id = None
    if result.conflicts:
        assert current is not None
        conflict_id = repo.add_conflict(op, current, result, rev, ctx)
    ack = Ack(op.op_id, result.outcome, op.record_id, rev, conflict_id=conflict_id)
    if conflict_id is not None:
        ack = Ack(
            op.op_id,
            "conflict",
            op.record_id,
            rev,
            code="conflict",
            message_zh="此记录在别处也被修改，已合并；冲突已提交主管处理。",
            message_en="This record was also changed elsewhere; merged, and the conflict was "
            "sent to a supervisor.",
            field=",".join(c.field for c in result.conflicts)[:200],
            conflict_id=conflict_id,
        )
    repo.store_ack(ack, digest, ctx)
    return ack
