"""Keeping the per-point and per-area summaries true, in the transaction that changes them.

Why: the director's pages must answer in well under 100 ms for a province (20,000 points,
200,000 inspections). Reading every inspection of a cycle per request cannot; reading one
row per area can. So every writer that changes what a point counts for calls
`refresh_points` before it commits: a sync batch, a conflict resolution, a photo arriving,
a register import, a point closed, reopened or moved.

How: `refresh_points` recomputes each given point's summary per cycle from the database
(its latest submitted inspection, its activity, its township) and adds the difference to
the township's and county's rows. It is idempotent, so calling it for a point that did not
change costs a couple of indexed reads and writes nothing; an unchanged inspection is
recognised by its change number (`seq`: every change to an inspection is stamped), which
is why callers refresh *after* stamping.

The trap: two transactions reading the same old summary would both subtract it. Callers
hold the writer lock (`sync_write.lock_writers`: PostgreSQL's advisory lock; SQLite has one
writer anyway), as every sync batch, resolution and photo completion already does.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection, delete, func, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from server.db import chunked
from server.domain.followups import PENDING
from server.domain.summary import Tally, point_facts
from server.models import (
    Area,
    AreaFollowUpSummary,
    AreaItemSummary,
    AreaSummary,
    ChecklistTemplate,
    FollowUp,
    Inspection,
    PointSummary,
    ServicePoint,
    TemplateVersion,
)

PS = PointSummary.__table__
AS = AreaSummary.__table__
AIS = AreaItemSummary.__table__
AFS = AreaFollowUpSummary.__table__
INSP = Inspection.__table__
_template_keys: dict[int, str] = {}
TIMES_AT_ONCE = 100  # (point, cycle, latest time) triples per read of their rows (_latest)


def refresh_points(session: Session, point_ids: Iterable[int]) -> None:
    """Bring the summaries of these points (every cycle) and their areas up to date."""
    ids = set(point_ids)
    if not ids:
        return
    session.flush()
    conn = session.connection()
    points = _points(conn, ids)
    latest = _latest(conn, ids)
    stored = _stored(conn, ids)
    follow_ups = _follow_ups(conn, ids)
    todo = [
        key
        for key in latest.keys() | stored.keys()
        if not _unchanged(stored.get(key), latest.get(key), points.get(key[0]))
        or stored[key].follow_ups != follow_ups.get(key, {})
    ]
    if not todo:
        return
    rows = _inspections(conn, {latest[k][0] for k in todo if k in latest})
    deltas: dict[tuple[int, int], Tally] = {}
    due: dict[tuple[int, int, str, str], int] = {}  # (cycle, area, due, status) -> change
    fresh = []
    for key in todo:
        old = stored.get(key)
        new = None
        if key in latest:
            insp = rows[latest[key][0]]
            tpl = _template_key(conn, insp.template_version_id)
            new = _summary(key, insp, points[key[0]], tpl)
            new.follow_ups = follow_ups.get(key, {})
        for summary, sign in ((old, -1), (new, 1)):
            if summary is not None:
                for area in {summary.township_id, summary.county_id}:
                    deltas.setdefault((summary.cycle_id, area), Tally()).add(summary, sign)
                    if summary.counted:
                        for k, n in summary.follow_ups.items():
                            day, status = k.split("|")
                            at = (summary.cycle_id, area, day, status)
                            due[at] = due.get(at, 0) + sign * n
        if new is not None:
            fresh.append(vars(new))
    for part in chunked(todo):
        conn.execute(delete(PS).where(tuple_(PS.c.point_id, PS.c.cycle_id).in_(part)))
    if fresh:
        conn.execute(PS.insert(), fresh)
    _add_to_areas(conn, {k: t for k, t in deltas.items() if not t.is_zero()})
    _upsert_adding(
        conn,
        AFS,
        ["cycle_id", "area_id", "due_date", "status"],
        [
            {
                "cycle_id": c,
                "area_id": a,
                "due_date": date.fromisoformat(d),
                "status": st,
                "count": n,
            }
            for (c, a, d, st), n in sorted(due.items())
            if n
        ],
    )


def rebuild(session: Session) -> None:
    """Throw every summary away and compute them all again (after a bulk load, or to repair).
    The caller holds the writer lock."""
    conn = session.connection()
    for table in (AFS, AIS, AS, PS):
        conn.execute(delete(table))
    ids = list(conn.execute(select(ServicePoint.__table__.c.id)).scalars())
    for part in chunked(ids):
        refresh_points(session, part)


def _unchanged(have: Any, want: tuple[str, int] | None, point: Any) -> bool:
    return (
        have is not None
        and want is not None
        and point is not None
        and (have.inspection_id, have.inspection_seq) == want
        and (have.counted, have.township_id, have.county_id)
        == (point.active, point.township_id, point.county_id)
    )


def _points(conn: Connection, ids: set[int]) -> dict[int, SimpleNamespace]:
    p, a = ServicePoint.__table__, Area.__table__
    out = {}
    for part in chunked(ids):
        q = select(p.c.id, p.c.active, p.c.township_id, a.c.parent_id).join(
            a, a.c.id == p.c.township_id
        )
        for pid, active, township, parent in conn.execute(q.where(p.c.id.in_(part))):
            out[pid] = SimpleNamespace(
                active=active, township_id=township, county_id=parent or township
            )
    return out


def _latest(conn: Connection, ids: set[int]) -> dict[tuple[int, int], tuple[str, int]]:
    """(point, cycle) -> (id, seq) of its latest submitted inspection (by submitted_at, then
    id: the rule of `rollup.rollup_cycle`). Each cycle's latest time comes from the index
    `inspection (point_id, status, submitted_at, cycle_id)` alone (migration 0015), then
    only the rows at those times are read: the points' history costs index entries walked
    by the database, not rows read into Python. A tie is decided by id here, in Python, the
    same way on both databases."""
    times: list[tuple[int, int, Any]] = []
    for part in chunked(ids):
        q = (
            select(INSP.c.point_id, INSP.c.cycle_id, func.max(INSP.c.submitted_at))
            .where(
                INSP.c.point_id.in_(part),
                INSP.c.status == "submitted",
                INSP.c.submitted_at.is_not(None),
                INSP.c.cycle_id.is_not(None),
            )
            .group_by(INSP.c.point_id, INSP.c.cycle_id)
        )
        times.extend(tuple(r) for r in conn.execute(q))
    best: dict[tuple[int, int], tuple[str, int]] = {}
    times.sort()
    for start in range(0, len(times), TIMES_AT_ONCE):
        part = times[start : start + TIMES_AT_ONCE]
        # points IN (...) AND times IN (...): an index seek per pair of them, so few at a
        # time (a row-value IN made SQLite scan the table); rows of pairs not asked for are
        # left below
        q = select(
            INSP.c.point_id, INSP.c.submitted_at, INSP.c.cycle_id, INSP.c.id, INSP.c.seq
        ).where(
            INSP.c.point_id.in_(sorted({pid for pid, _, _ in part})),
            INSP.c.status == "submitted",
            INSP.c.submitted_at.in_(sorted({t for _, _, t in part})),
        )
        wanted = set(part)  # a row at a wanted time may be another (point, cycle)'s
        for pid, at, cid, iid, seq in conn.execute(q):
            key = (pid, cid)
            if (pid, cid, at) in wanted and (key not in best or iid > best[key][0]):
                best[key] = (iid, seq)
    return best


def _follow_ups(conn: Connection, ids: set[int]) -> dict[tuple[int, int], dict[str, int]]:
    """(point, cycle) -> {"due|status": count} of the points' follow-ups not yet closed.
    Asked as `status IN (open, fixed)`, two seeks per point in the index of (point, status):
    `status != closed` let SQLite walk every follow-up the points ever had, and closed ones
    pile up year after year (bench/sync_history.py: 16.9 -> 0.5 ms at 20,000)."""
    f = FollowUp.__table__
    out: dict[tuple[int, int], dict[str, int]] = {}
    for part in chunked(ids):
        q = (
            select(f.c.point_id, f.c.cycle_id, f.c.due_date, f.c.status, func.count())
            .where(
                f.c.point_id.in_(part),
                f.c.status.in_(sorted(PENDING)),
                f.c.cycle_id.is_not(None),
            )
            .group_by(f.c.point_id, f.c.cycle_id, f.c.due_date, f.c.status)
        )
        for pid, cid, day, status, n in conn.execute(q):
            out.setdefault((pid, cid), {})[f"{day.isoformat()}|{status}"] = n
    return out


def _stored(conn: Connection, ids: set[int]) -> dict[tuple[int, int], Any]:
    out = {}
    for part in chunked(ids):
        for row in conn.execute(select(PS).where(PS.c.point_id.in_(part))):
            out[(row.point_id, row.cycle_id)] = row
    return out


def _inspections(conn: Connection, ids: set[str]) -> dict[str, Any]:
    cols = [
        INSP.c[c]
        for c in (
            "id",
            "seq",
            "inspector_id",
            "template_version_id",
            "submitted_at",
            "result",
            "evidence_complete",
        )
    ]
    out = {}
    for part in chunked(ids):
        for row in conn.execute(select(*cols).where(INSP.c.id.in_(part))):
            out[row.id] = row
    return out


def _template_key(conn: Connection, version_id: int) -> str:
    """Template key of a version (versions are immutable, so the cache never goes stale)."""
    if version_id not in _template_keys:
        v, t = TemplateVersion.__table__, ChecklistTemplate.__table__
        _template_keys[version_id] = conn.execute(
            select(t.c.key).join(v, v.c.template_id == t.c.id).where(v.c.id == version_id)
        ).scalar_one()
    return _template_keys[version_id]


def _summary(key: tuple[int, int], insp: Any, point: Any, template_key: str) -> SimpleNamespace:
    if insp.result is None:
        raise ValueError(f"submitted inspection {insp.id} has no result")
    return SimpleNamespace(
        cycle_id=key[1],
        point_id=key[0],
        township_id=point.township_id,
        county_id=point.county_id,
        counted=point.active,
        inspection_id=insp.id,
        inspection_seq=insp.seq,
        inspector_id=insp.inspector_id,
        template_version_id=insp.template_version_id,
        template_key=template_key,
        submitted_at=insp.submitted_at,
        evidence_complete=insp.evidence_complete,
        **point_facts(insp.result),
    )


def _upsert_adding(conn: Connection, table: Any, keys: list[str], rows: list[dict]) -> None:
    """INSERT the rows, or add their values to the rows already there (one statement)."""
    if not rows:
        return
    values = tuple(c for c in rows[0] if c not in keys)
    conn.execute(_upsert_statement(conn.dialect.name, table, tuple(keys), values), rows)


@lru_cache(maxsize=64)
def _upsert_statement(dialect: str, table: Any, keys: tuple[str, ...], values: tuple[str, ...]):
    """Built once per shape: `excluded` builds a proxy of every column of the table, ~1 ms
    a statement, three statements in every writer's refresh."""
    stmt = (postgresql if dialect == "postgresql" else sqlite).insert(table)
    return stmt.on_conflict_do_update(
        index_elements=list(keys), set_={c: table.c[c] + stmt.excluded[c] for c in values}
    )


def _add_to_areas(conn: Connection, deltas: dict[tuple[int, int], Tally]) -> None:
    areas: list[dict] = []
    items: list[dict] = []
    for (cycle, area), t in sorted(deltas.items()):
        areas.append({"cycle_id": cycle, "area_id": area, **t.counters})
        items.extend(
            {
                "cycle_id": cycle,
                "area_id": area,
                "template_key": tpl,
                "item_key": item,
                "passed": passed,
                "counted": counted,
            }
            for (tpl, item), (passed, counted) in sorted(t.items.items())
            if passed or counted
        )
    _upsert_adding(conn, AS, ["cycle_id", "area_id"], areas)
    _upsert_adding(conn, AIS, ["cycle_id", "area_id", "template_key", "item_key"], items)
