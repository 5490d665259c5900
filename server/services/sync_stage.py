"""A sync batch's writes, held in memory and then written with one statement per table.

Why staged: 500 ops written row by row hold the writer lock for seconds; staged, the whole
batch is a handful of executemany statements. Every changed row (inspection, follow-up,
point) is stamped once, in the order it changed, and at flush takes its change sequence
number from one counter UPDATE (services/changes.py): the counter row stays locked till
commit, so seq order is still commit order. A row stamped twice keeps one number, the later
place in the order.
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

from sqlalchemy import JSON, Connection, Dialect, bindparam, insert, update
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session

from server.models import FollowUp, Inspection, InspectionRevision, ServicePoint, SyncOp
from server.services.changes import reserve_seq

INSP = Inspection.__table__
FOLLOW = FollowUp.__table__
POINT = ServicePoint.__table__
REV = InspectionRevision.__table__
OPS = SyncOp.__table__
# JSON text worked out earlier, by id of the value it encodes (the value kept with it, so the
# id cannot be reused): sync_prepare encodes the op's own record before the writer lock
Texts = dict[int, tuple[Any, str]]
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
_FOLLOW_UPDATE = ("status", "closed_by", "closed_at", "fixed_at", "seq")


class _JsonText(TypeDecorator):
    """A JSON column bound as JSON text already encoded (PostgreSQL still casts it)."""

    impl = JSON
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> None:  # type: ignore[override]
        return None


def _json_columns(table: Any) -> tuple[str, ...]:
    return tuple(c.key for c in table.c if isinstance(c.type, JSON))


def _encoding(stmt: Any, columns: tuple[str, ...]) -> Any:
    """`stmt` taking each of the JSON `columns` as text, from the parameter `j_<column>`."""
    return stmt.values({c: bindparam(f"j_{c}", type_=_JsonText()) for c in columns})


def _encoded(row: dict, columns: tuple[str, ...], texts: Texts) -> dict:
    """`row` with its JSON `columns` as text: taken from `texts` if worked out already,
    else encoded here as SQLAlchemy would (json.dumps; None is JSON null)."""
    out = {k: v for k, v in row.items() if k not in columns}
    for c in columns:
        value = row[c]
        found = texts.get(id(value))
        out[f"j_{c}"] = found[1] if found is not None and found[0] is value else json.dumps(value)
    return out


_INSP_JSON = _json_columns(INSP)
_REV_JSON = _json_columns(REV)


class Staging:
    """Rows to write: changed rows in stamping order, new revisions, new op log entries."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        # id(row) -> (table, row), in stamping order; each row takes one seq at flush
        self.dirty: dict[int, tuple[str, SimpleNamespace]] = {}
        self.revisions: list[dict] = []
        self.ops: list[dict] = []

    def stamp(self, table: str, row: SimpleNamespace) -> None:
        self.dirty.pop(id(row), None)
        self.dirty[id(row)] = (table, row)

    def flush(
        self, session: Session, in_db: set[str], final: bool = False, texts: Texts | None = None
    ) -> None:
        """Write everything staged. `in_db` (the inspection ids the database holds) grows by
        the rows inserted. New follow-ups learn their ids unless this is the batch's last
        flush (RETURNING makes the driver send one large multi-row INSERT, slow to prepare
        on PostgreSQL). `texts`: JSON encoded already (see Texts)."""
        texts = texts or {}
        conn = session.connection()
        if self.dirty:
            staged = self._number(session)
            inspections = [r for t, r in staged if t == "inspection"]
            _write_inspections(conn, inspections, in_db, texts)
            _write_follow_ups(conn, [r for t, r in staged if t == "follow_up"], final)
            _write_points(conn, [r for t, r in staged if t == "point"])
            self.dirty.clear()
        if self.revisions:
            rows = [_encoded(r, _REV_JSON, texts) for r in self.revisions]
            conn.execute(_encoding(insert(REV), _REV_JSON), rows)
            self.revisions = []
        if self.ops:
            conn.execute(insert(OPS), self.ops)
            self.ops = []

    def _number(self, session: Session) -> list[tuple[str, SimpleNamespace]]:
        """One counter UPDATE gives every changed row its seq, in stamping order."""
        staged = list(self.dirty.values())
        first = reserve_seq(session, len(staged)) - len(staged) + 1
        for n, (_, row) in enumerate(staged):
            row.seq = first + n
        return staged


def _update_by_id(conn: Connection, table: Any, rows: list[dict]) -> None:
    if rows:
        conn.execute(update(table).where(table.c.id == bindparam("b_id")), rows)


def _write_inspections(
    conn: Connection, rows: list[SimpleNamespace], in_db: set[str], texts: Texts
) -> None:
    new = [r for r in rows if r.id not in in_db]
    old = [r for r in rows if r.id in in_db]
    if new:
        conn.execute(
            _encoding(insert(INSP), _INSP_JSON), [_encoded(vars(r), _INSP_JSON, texts) for r in new]
        )
        in_db.update(r.id for r in new)
    if old:
        json_cols = tuple(c for c in _INSP_UPDATE if c in _INSP_JSON)
        conn.execute(
            _encoding(update(INSP).where(INSP.c.id == bindparam("b_id")), json_cols),
            [
                _encoded(
                    {"b_id": r.id, **{c: getattr(r, c) for c in _INSP_UPDATE}}, json_cols, texts
                )
                for r in old
            ],
        )


def _write_follow_ups(conn: Connection, follows: list[SimpleNamespace], final: bool) -> None:
    created = [f for f in follows if f.id is None]
    changed = [f for f in follows if f.id is not None]
    values = [{c: getattr(f, c) for c in _FOLLOW_COLS} for f in created]
    if created and final:
        conn.execute(insert(FOLLOW), values)
    elif created:
        ids = conn.execute(
            insert(FOLLOW).returning(FOLLOW.c.id, sort_by_parameter_order=True), values
        ).scalars()
        for f, new_id in zip(created, ids, strict=True):
            f.id = new_id
    _update_by_id(
        conn,
        FOLLOW,
        [{"b_id": f.id, **{c: getattr(f, c) for c in _FOLLOW_UPDATE}} for f in changed],
    )


def _write_points(conn: Connection, points: list[SimpleNamespace]) -> None:
    _update_by_id(conn, POINT, [{"b_id": p.id, "seq": p.seq} for p in points])
