"""The database side of sync.apply: one transaction per /api/sync request, writers
serialised, every op atomic on its own.

Why serialise: two devices pushing edits to one record must not both merge against the same
revision (a lost update), and two identical requests racing must meet as "first applies,
second replays". On PostgreSQL the request's transaction first takes a transaction-scoped
advisory lock; on SQLite it starts with BEGIN IMMEDIATE. The unique op_id row is the
backstop: if a racing copy still slips through, its insert fails, the transaction rolls back
and the retry finds the stored ack.

How a request is applied (`apply_batch`, here: the retry loop; the batch itself is
sync_batch.BatchRepo, its reads sync_cache, its writes sync_stage, and the writer lock and
server clock it shares with other writers sync_write):
- Before the lock (sync_prepare, in a read-only session): what does not depend on the
  state the lock guards, per op its body hash, its checklist version, whether its answers
  fit, and the rule engine's verdict on its own answers and photos. Under the lock these are
  used only where their inputs still hold (a merge that changes the answers re-evaluates).
- One transaction and one writer lock for the whole request. Requests hold at most
  `limits.max_ops` ops, so the lock is held for a bounded time (docs/benchmarks.md, "Sync"
  and "Ingest against a fair baseline", has the figures).
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
from collections.abc import Sequence

from sqlalchemy import Engine

from server.db import session_scope
from server.services.devices import Caller
from server.services.scope import Scope
from server.services.sync_batch import TRANSIENT, BatchRepo
from server.services.sync_prepare import Prepared, prepare
from server.services.sync_write import lock_writers
from sync.messages import Ack, BadOp, Op

log = logging.getLogger("xunjian.sync")
ATTEMPTS = 5


def apply_batch(
    engine: Engine,
    caller: Caller,
    scope: Scope,
    ops: Sequence[Op | BadOp],
    prepared: Prepared | None = None,
) -> list[Ack]:
    """Apply a request's ops in one transaction (see the module docstring); their acks.
    `prepared`: sync_prepare.prepare(ops), if the caller has it already."""
    if not ops:
        return []
    if prepared is None:
        # a read-only session: on SQLite the write transaction's first statement takes the lock
        with session_scope(engine) as session:
            prepared = prepare(session, ops)
    careful = False
    last: Exception | None = None
    for _attempt in range(ATTEMPTS):
        try:
            with session_scope(engine, write=True) as session:
                session.connection()  # BEGIN (IMMEDIATE on SQLite): the writer lock from here
                began = time.perf_counter()
                lock_writers(session)
                out = BatchRepo(session, caller, scope, careful, prepared).apply_all(ops)
            held = (time.perf_counter() - began) * 1000
            log.debug(
                "applied %d ops, writer lock held %.1f ms",
                len(ops),
                held,
                extra={"ops": len(ops), "lock_ms": held, "careful": careful},
            )
            return out
        except TRANSIENT as exc:
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
