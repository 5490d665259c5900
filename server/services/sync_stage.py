"""A sync batch's writes, held in memory and then written with one statement per table.

Why staged: 500 ops written row by row hold the writer lock for seconds; staged, the whole
batch is a handful of executemany statements. Every changed row (inspection, follow-up,
point) is stamped once, in the order it changed, and at flush takes its change sequence
number from one counter UPDATE (services/changes.py): the counter row stays locked till
commit, so seq order is still commit order. A row stamped twice keeps one number, the later
place in the order.
"""

from __future__ import annotations

from operator import itemgetter
from types import SimpleNamespace
from typing import Any

from sqlalchemy import JSON, Connection, Dialect, bindparam, insert, update
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from server import json_codec
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
    "echo_device",
    "echo_seq",
)
_FOLLOW_COLS = tuple(c.key for c in FOLLOW.c if c.key != "id")
_FOLLOW_UPDATE = ("status", "closed_by", "closed_at", "fixed_at", "seq")


class _Bulk:
    """One executemany through the driver of an INSERT of `columns` into `table` (or, with
    `by_id`, an UPDATE of them WHERE id = :b_id), its values made ready here.

    Why not Core's executemany: for each row SQLAlchemy builds the parameters again and runs
    every bind processor, which for a batch's 4,000 follow-ups cost more than the database's
    own work. Here each distinct time or date is processed once (a follow-up's opening time
    is its inspection's; most are None), JSON columns are bound as text (taken from `Texts`
    when sync_prepare encoded them before the lock), and everything else goes to the driver
    as given. The statement text is SQLAlchemy's own (PostgreSQL's casts included), compiled
    once per dialect; errors still come as SQLAlchemy's (IntegrityError, OperationalError),
    so the retry loop and the careful path see what they saw before."""

    def __init__(self, table: Any, columns: tuple[str, ...], by_id: bool = False) -> None:
        self.table, self.columns, self.by_id = table, columns, by_id
        self.keys = (*columns, "b_id") if by_id else columns
        self._compiled: dict[Dialect, tuple[str, tuple[str, ...] | None]] = {}

    def _statement(self, dialect: Dialect) -> tuple[str, tuple[str, ...] | None]:
        """The SQL text and, for a positional driver (SQLite), the order of its values."""
        found = self._compiled.get(dialect)
        if found is None:
            t = self.table
            stmt = update(t).where(t.c.id == bindparam("b_id")) if self.by_id else insert(t)
            compiled = stmt.compile(
                dialect=dialect, column_keys=list(self.keys), for_executemany=True
            )
            order = tuple(compiled.positiontup or ()) if compiled.positional else None
            if order is not None and sorted(order) != sorted(self.keys):
                raise RuntimeError(f"{t.name}: unexpected parameters {order}")
            found = self._compiled[dialect] = (compiled.string, order)
        return found

    def run(self, conn: Connection, rows: list[dict], texts: Texts) -> None:
        if not rows:
            return
        copy = conn.dialect.name == "postgresql" and not self.by_id
        sql, order = (
            (_copy_sql(conn, self.table, self.keys), ()) if copy else self._statement(conn.dialect)
        )
        keys = order or self.keys
        get = itemgetter(*keys)
        steps = [
            (n, f)
            for n, k in enumerate(keys)
            if (f := _readier(self.table, k, conn.dialect, texts)) is not None
        ]
        params: list[Any] = []
        for row in rows:
            values = list(get(row)) if len(keys) > 1 else [get(row)]
            for n, f in steps:
                values[n] = f(values[n])
            params.append(
                tuple(values) if order is not None else dict(zip(keys, values, strict=True))
            )
        if copy:
            _copy(conn, sql, params)
        else:
            conn.exec_driver_sql(sql, params)  # type: ignore[arg-type]


def _copy_sql(conn: Connection, table: Any, keys: tuple[str, ...]) -> str:
    q = conn.dialect.identifier_preparer
    return f"COPY {q.format_table(table)} ({', '.join(q.quote(k) for k in keys)}) FROM STDIN"


def _copy(conn: Connection, sql: str, rows: list[tuple]) -> None:
    """New rows into PostgreSQL with COPY: for a batch's thousands of rows much less work, on
    both sides, than one INSERT per row. The driver's errors are raised as SQLAlchemy's, as
    `Connection.execute` would (a duplicate op_id is an IntegrityError the retry loop knows)."""
    import psycopg

    raw = conn.connection.driver_connection
    assert raw is not None
    try:
        with raw.cursor() as cur, cur.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
    except psycopg.Error as exc:
        raise DBAPIError.instance(sql, None, exc, psycopg.Error) from exc


def _readier(table: Any, key: str, dialect: Dialect, texts: Texts) -> Any:
    """What makes a value of column `key` ready for the driver (None: nothing to do)."""
    if key == "b_id":
        key = "id"
    type_ = table.c[key].type
    if isinstance(type_, JSON):
        return lambda value: _json_text(value, texts)
    process = type_.dialect_impl(dialect).bind_processor(dialect)
    if process is None:
        return None
    memo: dict[tuple[type, Any], Any] = {}

    def ready(value: Any) -> Any:
        key = (type(value), value)
        found = memo.get(key, memo)
        if found is memo:
            found = memo[key] = process(value)
        return found

    return ready


def _json_text(value: Any, texts: Texts) -> str:
    """`value` as JSON text: from `texts` if worked out already, else encoded as SQLAlchemy
    would (server/json_codec; None is JSON null)."""
    if value == [] and type(value) is list:
        return "[]"  # a follow-up's evidence, as a rule
    found = texts.get(id(value))
    return found[1] if found is not None and found[0] is value else json_codec.dumps(value)


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
            _bulk(REV, self.revisions[0]).run(conn, self.revisions, texts)
            self.revisions = []
        if self.ops:
            _bulk(OPS, self.ops[0]).run(conn, self.ops, texts)
            self.ops = []

    def _number(self, session: Session) -> list[tuple[str, SimpleNamespace]]:
        """One counter UPDATE gives every changed row its seq, in stamping order."""
        staged = list(self.dirty.values())
        first = reserve_seq(session, len(staged)) - len(staged) + 1
        for n, (table, row) in enumerate(staged):
            row.seq = first + n
            if table == "inspection":  # stored as its device sent it, at this number
                row.echo_seq = row.seq if row.echo_device is not None else None
        return staged


_WRITERS: dict[tuple[str, tuple[str, ...], bool], _Bulk] = {}


def _bulk(table: Any, columns: Any, by_id: bool = False) -> _Bulk:
    """The writer of these columns of `table` (of the table's columns, those named by
    `columns`, in the table's order), made once."""
    keys = tuple(c.key for c in table.c if c.key in columns)
    found = _WRITERS.get((table.name, keys, by_id))
    if found is None:
        found = _WRITERS[(table.name, keys, by_id)] = _Bulk(table, keys, by_id)
    return found


def _write_inspections(
    conn: Connection, rows: list[SimpleNamespace], in_db: set[str], texts: Texts
) -> None:
    new = [vars(r) for r in rows if r.id not in in_db]
    old = [r for r in rows if r.id in in_db]
    if new:
        _bulk(INSP, new[0]).run(conn, new, texts)
        in_db.update(r["id"] for r in new)
    if old:
        _bulk(INSP, _INSP_UPDATE, by_id=True).run(
            conn, [{"b_id": r.id, **{c: getattr(r, c) for c in _INSP_UPDATE}} for r in old], texts
        )


def _write_follow_ups(conn: Connection, follows: list[SimpleNamespace], final: bool) -> None:
    created = [f for f in follows if f.id is None]
    changed = [f for f in follows if f.id is not None]
    if created and final:
        _bulk(FOLLOW, _FOLLOW_COLS).run(conn, [vars(f) for f in created], {})
    elif created:
        values = [{c: getattr(f, c) for c in _FOLLOW_COLS} for f in created]
        ids = conn.execute(
            insert(FOLLOW).returning(FOLLOW.c.id, sort_by_parameter_order=True), values
        ).scalars()
        for f, new_id in zip(created, ids, strict=True):
            f.id = new_id
    _bulk(FOLLOW, _FOLLOW_UPDATE, by_id=True).run(
        conn, [{"b_id": f.id, **{c: getattr(f, c) for c in _FOLLOW_UPDATE}} for f in changed], {}
    )


def _write_points(conn: Connection, points: list[SimpleNamespace]) -> None:
    _bulk(POINT, ("seq",), by_id=True).run(conn, [{"b_id": p.id, "seq": p.seq} for p in points], {})
