"""Each point's latest submitted inspection, read through its index (services/latest.py), and
a sync batch's view of it when the batch withdraws or moves back the latest, and each point's
latest in each cycle, which the summaries keep, and the open follow-ups they count
(services/summaries.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event
from sqlmodel import select

from server.db import session_scope
from server.domain.followups import CLOSED, FIXED, OPEN
from server.models import FollowUp, Inspection, ServicePoint, User
from server.services import summaries
from server.services.latest import latest_submitted
from server.services.scope import scope_of
from server.services.sync_cache import BatchCache
from server.services.sync_prepare import Prepared
from server.services.sync_pull import Serializer
from tests.server.counties import add_liquan


def _every_latest(session) -> dict[int, tuple]:
    """The rule itself, over every submitted inspection: greatest (submitted_at, id)."""
    best: dict[int, tuple] = {}
    rows = session.exec(
        select(Inspection.point_id, Inspection.submitted_at, Inspection.id).where(
            Inspection.status == "submitted",
            Inspection.submitted_at.is_not(None),  # type: ignore[union-attr]
        )
    )
    for pid, at, iid in rows:
        best[pid] = max(best.get(pid, (at, iid)), (at, iid))
    return best


def test_the_index_finds_what_reading_every_inspection_finds(engine, demo):
    with session_scope(engine, write=True) as s:
        # a tie: a second inspection submitted at the same moment as a point's latest
        (at, iid), pid = max((v, k) for k, v in _every_latest(s).items())
        twin = s.get(Inspection, iid)
        copy = Inspection(
            **{c: getattr(twin, c) for c in ("point_id", "template_version_id", "cycle_id")},
            id="ffffffff-0000-4000-8000-000000000000",
            inspector_id=twin.inspector_id,
            status="submitted",
            submitted_at=at,
        )
        s.add(copy)
        s.flush()
        want = _every_latest(s)
        assert want[pid] == (at, copy.id)
        got = {
            r.point_id: (r.submitted_at, r.id, r.rating)
            for r in latest_submitted(s.connection(), want, Inspection.__table__.c.rating)
        }
    assert {p: g[:2] for p, g in got.items()} == want
    assert len(want) > 20  # the demo's points, most of them inspected


def test_a_batch_that_withdraws_the_latest_finds_the_one_before(engine, demo):
    with session_scope(engine) as s:
        every = _every_latest(s)
        # a point with at least three submitted inspections
        counts: dict[int, list] = {}
        for pid, at, iid in s.exec(
            select(Inspection.point_id, Inspection.submitted_at, Inspection.id).where(
                Inspection.status == "submitted"
            )
        ):
            counts.setdefault(pid, []).append((at, iid))
        pid = next(p for p, v in counts.items() if len(v) >= 3)
        ranked = sorted(counts[pid], reverse=True)
        assert ranked[0] == every[pid]
        user = s.exec(select(User).where(User.username == "inspector")).one()
        cache = BatchCache(s, scope_of(s, user), Prepared())
        cache.load_points({pid})
        state = cache.point(pid)
        assert state.latest() == ranked[0]
        assert len(state.submitted) == 1  # only the latest was read
        state.submit(ranked[2][1], None)  # not the latest: nothing more to read
        assert state.latest() == ranked[0] and len(state.submitted) == 1
        state.submit(ranked[0][1], None)  # the latest withdrawn: the rest read, the batch's
        assert state.latest() == ranked[1]  # own change (ranked[2] withdrawn) kept
        assert ranked[2][1] not in state.submitted
        back = ranked[1][0] - timedelta(days=400)
        state.submit(ranked[1][1], back)  # moved back in time, behind the others
        rest = [r for r in ranked[3:]] + [(back, ranked[1][1])]
        assert state.latest() == max(rest)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # SQLite's plans
def test_no_point_has_its_other_inspections_read(engine, demo):
    """Every statement seeks the point's index (or a primary key); none scans inspections."""
    seen: list[tuple[str, tuple]] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    with session_scope(engine) as s:
        points = list(_every_latest(s))
        conn = s.connection()
        event.listen(conn, "before_cursor_execute", note)
        rows = list(latest_submitted(conn, points))
        event.remove(conn, "before_cursor_execute", note)
        plans = [
            [r[3] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params)]
            for sql, params in seen
        ]
    assert len(rows) == len(points) and len(seen) == 2, seen
    flat = [step for p in plans for step in p if "inspection" in step]
    assert flat and all(
        "ix_inspection_point_latest (point_id=? AND status=?" in step
        or "sqlite_autoindex_inspection_1 (id=?)" in step
        for step in flat
    ), plans


def test_a_second_countys_point_has_its_own_latest(engine, demo):
    """礼泉县's point, beside the demo county's, on one server: its own latest, with its
    inspector's name as the pull's point row carries it."""
    add_liquan(engine)
    with session_scope(engine, write=True) as s:
        qian = _every_latest(s)
        point = s.exec(select(ServicePoint).where(ServicePoint.code == "610425100201")).one()
        user = s.exec(select(User).where(User.username == "lq_inspector")).one()
        version = s.get(Inspection, next(iter(qian.values()))[1]).template_version_id
        at = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
        made = [
            Inspection(
                id=f"00000000-0000-4000-8000-00000000000{n}",
                point_id=point.id,
                template_version_id=version,
                inspector_id=user.id,
                status="submitted",
                submitted_at=at + timedelta(hours=n),
            )
            for n in (1, 2)
        ]
        s.add_all(made)
        s.flush()
        got = {
            r.point_id: (r.submitted_at, r.id)
            for r in latest_submitted(s.connection(), [point.id, *qian])
        }
        row = Serializer(s).last_inspections([point.id])[point.id]
    assert got == {**qian, point.id: (made[1].submitted_at, made[1].id)}
    assert (row["id"], row["inspector"]) == (made[1].id, user.display_name)


def _every_cycles_latest(session) -> dict[tuple[int, int], tuple[str, int]]:
    """The summaries' rule over every submitted inspection: per (point, cycle), the greatest
    (submitted_at, id), as (id, seq)."""
    best: dict[tuple[int, int], tuple] = {}
    rows = session.exec(
        select(
            Inspection.point_id,
            Inspection.cycle_id,
            Inspection.submitted_at,
            Inspection.id,
            Inspection.seq,
        ).where(
            Inspection.status == "submitted",
            Inspection.submitted_at.is_not(None),  # type: ignore[union-attr]
            Inspection.cycle_id.is_not(None),  # type: ignore[union-attr]
        )
    )
    for pid, cid, at, iid, seq in rows:
        best[(pid, cid)] = max(best.get((pid, cid), (at, iid, seq)), (at, iid, seq))
    return {k: (iid, seq) for k, (_, iid, seq) in best.items()}


def test_each_cycles_latest_is_what_reading_every_inspection_finds(engine, demo):
    """The summaries' (point, cycle) latest, from the index's times: a tie in a cycle goes to
    the greater id, and a row of another cycle at a cycle's latest time does not take it;
    with a second county's point on the same server."""
    add_liquan(engine)
    with session_scope(engine, write=True) as s:
        want = _every_cycles_latest(s)
        (pid, cid), (iid, _) = max(want.items(), key=lambda kv: kv[1][0])
        twin = s.get(Inspection, iid)
        other = next(c for p, c in want if c != cid)
        at = twin.submitted_at
        lq = s.exec(select(ServicePoint).where(ServicePoint.code == "610425100201")).one()

        def made(n: int, point: int, cycle: int, when: datetime) -> Inspection:
            return Inspection(
                id=f"ffffffff-0000-4000-8000-00000000000{n}",
                point_id=point,
                template_version_id=twin.template_version_id,
                inspector_id=twin.inspector_id,
                cycle_id=cycle,
                status="submitted",
                submitted_at=when,
                seq=900 + n,
            )

        s.add_all(
            [
                made(1, pid, cid, at),  # a tie with the cycle's latest: the greater id wins
                made(2, pid, other, at + timedelta(days=999)),  # the other cycle's latest...
                made(5, pid, other, at),  # ...not this one, at the first cycle's latest time
                made(3, lq.id, other, at),  # the same moment at another county's point
                made(4, lq.id, cid, at - timedelta(days=1)),
            ]
        )
        s.flush()
        want = _every_cycles_latest(s)
        got = summaries._latest(s.connection(), {p for p, _ in want})
    assert got == want
    assert want[(pid, cid)][0] == "ffffffff-0000-4000-8000-000000000001"
    assert want[(pid, other)][0] == "ffffffff-0000-4000-8000-000000000002"
    assert want[(lq.id, cid)][0] == "ffffffff-0000-4000-8000-000000000004"
    assert len(want) > 40  # the demo's points in both its cycles


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # SQLite's plans
def test_each_cycles_latest_reads_the_index_not_the_table(engine, demo):
    """The cycles' latest times come from the index alone; the rows at those times by its
    seeks; no statement scans inspections."""
    seen: list[tuple[str, tuple]] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    with session_scope(engine) as s:
        points = {p for p, _ in _every_cycles_latest(s)}
        conn = s.connection()
        event.listen(conn, "before_cursor_execute", note)
        found = summaries._latest(conn, points)
        event.remove(conn, "before_cursor_execute", note)
        plans = [
            [r[3] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params)]
            for sql, params in seen
        ]
    assert len(found) > 40 and len(seen) == 2, seen
    assert any("COVERING INDEX ix_inspection_point_latest" in step for step in plans[0]), plans
    flat = [step for p in plans for step in p if "inspection" in step]
    assert all("ix_inspection_point_latest (point_id=? AND status=?" in s for s in flat), plans


def _open_follow_ups(session) -> dict[tuple[int, int], dict[str, int]]:
    """The summaries' count by the rule itself, over every follow-up."""
    out: dict[tuple[int, int], dict[str, int]] = {}
    for f in session.exec(select(FollowUp)):
        if f.status != CLOSED and f.cycle_id is not None:
            counts = out.setdefault((f.point_id, f.cycle_id), {})
            key = f"{f.due_date.isoformat()}|{f.status}"
            counts[key] = counts.get(key, 0) + 1
    return out


def test_open_follow_ups_are_counted_without_reading_the_closed_ones(engine, demo):
    """Closed follow-ups pile up year after year, and every writer's refresh counts the open
    ones of its points: by the index of (point, status), never by the points' closed rows.
    (`status != 'closed'` let SQLite walk every follow-up the points ever had.)"""
    add_liquan(engine)
    with session_scope(engine, write=True) as s:
        some = s.exec(select(FollowUp).where(FollowUp.status == OPEN)).first()
        lq = s.exec(select(ServicePoint).where(ServicePoint.code == "610425100201")).one()
        keep = {
            c: getattr(some, c)
            for c in ("cycle_id", "item_key", "due_date", "opened_at", "opened_by")
        }
        s.add_all(
            [FollowUp(point_id=some.point_id, status=CLOSED, **keep) for _ in range(30)]
            + [FollowUp(point_id=lq.id, status=FIXED, **keep)]
        )
        s.flush()
        want = _open_follow_ups(s)
        points = {p for p, _ in want} | {some.point_id}
        seen: list[tuple[str, tuple]] = []

        def note(conn, cursor, statement, parameters, context, executemany):
            seen.append((statement, parameters))

        conn = s.connection()
        event.listen(conn, "before_cursor_execute", note)
        got = summaries._follow_ups(conn, points)
        event.remove(conn, "before_cursor_execute", note)
        sqlite = conn.dialect.name == "sqlite"
        plans = [
            [r[3] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params)]
            for sql, params in (seen if sqlite else [])
        ]
    assert got == want
    assert want[(lq.id, keep["cycle_id"])][f"{keep['due_date'].isoformat()}|{FIXED}"] == 1
    assert len(want) > 10  # the demo's points with follow-ups open
    if sqlite:  # SQLite's plans
        flat = [step for p in plans for step in p if "follow_up" in step]
        assert flat and all(
            "ix_follow_up_point_status (point_id=? AND status=?" in s for s in flat
        ), plans
