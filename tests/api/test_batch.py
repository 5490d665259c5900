"""A request's ops are applied in one transaction (server/services/sync_store.py): the
outcome must be exactly what one request per op gives, an op that cannot be stored must be
quarantined alone, and a transient failure must retry the whole batch without doubling."""

from __future__ import annotations

import hashlib
import random
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import select

import server.services.sync_batch as store
from server.db import session_scope
from server.domain.templates import load_builtin_templates
from server.models import (
    FollowUp,
    Inspection,
    Quarantine,
    ServicePoint,
    SyncConflict,
    SyncOp,
)
from server.services.demo_answers import answers_for
from server.services.inspections import SessionFacts
from tests.api.helpers import login, op, record, sync, village

T0 = datetime(2026, 11, 20, 9, tzinfo=UTC)


def _fresh_points(engine, n: int) -> list[str]:
    """New village points beside a demo village point in the inspector's area, so two runs
    on different points start from the same (empty) state."""
    code, _ = village(engine)
    with session_scope(engine, write=True) as s:
        near = s.exec(select(ServicePoint).where(ServicePoint.code == code)).one()
        codes = [f"{code[:9]}9{i:02d}" for i in range(n)]
        for c in codes:
            s.add(
                ServicePoint(
                    code=c, name=f"测试点{c}", kind="village", township_id=near.township_id
                )
            )
    return codes


def _answers(quality: float, seed: int) -> tuple[dict, list[dict]]:
    rng = random.Random(seed)
    content = load_builtin_templates()["village_point"]
    pool = {
        k: [hashlib.sha256(f"{seed}-{k}-{i}".encode()).hexdigest() for i in range(2)]
        for k in ("sign", "rules", "shelves", "register", "activity")
    }
    answers, photos = answers_for(content, quality, rng, pool)
    when = T0.isoformat()
    return answers, [{**p, "size": 1000, "taken_at": when} for p in photos]


def _scenario(x: str, y: str, version: int) -> list[tuple[str, dict]]:
    """(label, op) pairs exercising what the batch path caches and stages: chained edits,
    stale creates (conflicts), follow-ups opened and closed by later visits and left alone
    by late older ones, rejections, evidence state, and two ops on one record in a row."""
    good, good_photos = _answers(1.0, 1)
    bad, bad_photos = _answers(0.0, 2)
    mixed, mixed_photos = _answers(0.5, 3)

    def sub(rec, at):
        return {**rec, "status": "submitted", "submitted_at": at.isoformat()}

    a = record(x, version, answers={"book_volumes": 100})
    b = sub(record(x, version, answers=bad, photos=bad_photos), T0 + timedelta(days=1))
    c = sub(record(x, version, answers=mixed, photos=mixed_photos), T0)
    e = sub(record(y, version, answers=good, photos=good_photos), T0 + timedelta(days=2))
    ops = []
    o1 = op(a, hlc="0001764144000001:0000:d-1")
    ops.append(("a1", o1))
    ops.append(("b1", op(b, hlc="0001764144000002:0000:d-1")))
    a2 = sub({**a, "answers": good, "photos": good_photos}, T0 + timedelta(days=3))
    o3 = op(a2, hlc="0001764144000003:0000:d-1", base_op_id=o1["op_id"])
    ops.append(("a2", o3))
    ops.append(("c1", op(c, hlc="0001764144000004:0000:d-1")))  # older visit, arrives late
    stale = {**b, "notes": "from another phone", "answers": {**bad, "seats": 99}}
    ops.append(("b-stale", op(stale, hlc="0001764144000005:0000:d-1")))  # create again
    bad_value = record(y, version, answers={"book_volumes": "many"})
    ops.append(("d-bad", op(bad_value, hlc="0001764144000006:0000:d-1")))
    ops.append(("e1", op(e, hlc="0001764144000007:0000:d-1")))
    unknown = record("999999999999", version)
    ops.append(("f-unknown", op(unknown, hlc="0001764144000008:0000:d-1")))
    a3 = {**a2, "notes": "checked again"}
    ops.append(("a3", op(a3, hlc="0001764144000009:0000:d-1", base_op_id=o3["op_id"])))
    e2 = {**e, "answers": {**good, "book_volumes": 1}}
    ops.append(("e2", op(e2, base_rev=1, hlc="0001764144000010:0000:d-1")))
    return ops


def _outcome(engine, pairs, acks: list[dict], points: dict[str, str]) -> dict:
    """What the ops left behind, with record ids and points replaced by their labels."""
    labels = {o["record_id"]: label[0] for label, o in pairs}
    op_ids = {o["op_id"] for _, o in pairs}
    name = lambda rid: labels.get(rid, rid)  # noqa: E731
    out: dict = {
        "acks": [
            (a["status"], a["rev"], a.get("code"), a.get("field"), "conflict_id" in a) for a in acks
        ]
    }
    with session_scope(engine) as s:
        where = {p.id: points[p.code] for p in s.exec(select(ServicePoint)) if p.code in points}
        rows = s.exec(select(Inspection).where(Inspection.id.in_(list(labels)))).all()
        out["inspections"] = sorted(
            (
                name(i.id),
                i.status,
                i.rev,
                i.rating,
                i.result,
                i.evidence_complete,
                i.answers,
                i.notes,
                i.submitted_at,
            )
            for i in rows
        )
        out["follow_ups"] = sorted(
            (
                where[f.point_id],
                f.item_key,
                f.reason_code,
                f.status,
                name(f.opened_by),
                name(f.closed_by) if f.closed_by else None,
                f.opened_at,
                f.due_date,
                f.closed_at,
            )
            for f in s.exec(select(FollowUp).where(FollowUp.point_id.in_(list(where))))
        )
        out["conflicts"] = sorted(
            (name(c.inspection_id), c.base_rev, c.server_rev, c.merged_rev, str(c.fields))
            for c in s.exec(
                select(SyncConflict).where(SyncConflict.inspection_id.in_(list(labels)))
            )
        )
        out["quarantine"] = sorted(
            (q.code, q.field) for q in s.exec(select(Quarantine)) if q.op_id in op_ids
        )
    return out


def _seqs_unique_and_ordered(engine) -> None:
    with session_scope(engine) as s:
        seqs = [i.seq for i in s.exec(select(Inspection))] + [
            f.seq for f in s.exec(select(FollowUp))
        ]
        counter = s.connection().exec_driver_sql("SELECT value FROM change_counter").scalar()
    stamped = [q for q in seqs if q]
    assert len(stamped) == len(set(stamped)), "every stamped row has its own seq"
    assert max(stamped) <= counter


def _run(client, h, ops, batched: bool) -> list[dict]:
    if batched:
        return sync(client, h, *ops)["acks"]
    return [sync(client, h, o)["acks"][0] for o in ops]


def _relabel(pairs, x, y, new_x, new_y):
    """The same scenario on other points with fresh ids (records and ops)."""
    ids: dict[str, str] = {}
    out = []
    for label, o in pairs:
        o = {**o, "op_id": ids.setdefault(o["op_id"], str(uuid.uuid4()))}
        if "base_op_id" in o:
            o["base_op_id"] = ids[o["base_op_id"]]
        rid = o["record_id"]
        new_rid = ids.setdefault(rid, str(uuid.uuid4()))
        code = {x: new_x, y: new_y}.get(o["data"]["point_code"], o["data"]["point_code"])
        o["record_id"] = new_rid
        o["data"] = {**o["data"], "id": new_rid, "point_code": code}
        out.append((label, o))
    return out


class _SqlFacts(store._BatchFacts):
    """The follow-up facts straight from SQL, as refresh_outcome reads them (right for a
    batch of one op, whose own row is the only one not yet written)."""

    def __init__(self, repo) -> None:
        super().__init__(repo)
        self.sql = SessionFacts(repo.session)

    def complete_blobs(self, shas):
        return self.sql.complete_blobs(shas)

    def later_submitted(self, inspection):
        return self.sql.later_submitted(inspection)

    def open_follow_ups(self, point_id):
        cols = [c.key for c in FollowUp.__table__.c]
        return {
            k: SimpleNamespace(**{c: getattr(f, c) for c in cols})
            for k, f in self.sql.open_follow_ups(point_id).items()
        }


def test_a_batch_leaves_exactly_what_one_request_per_op_leaves(client, demo, engine, monkeypatch):
    h = login(client)
    x1, y1, x2, y2 = _fresh_points(engine, 4)
    version = village(engine)[1]
    one = _scenario(x1, y1, version)
    batch = _relabel(one, x1, y1, x2, y2)

    with monkeypatch.context() as m:
        m.setattr(store, "_BatchFacts", _SqlFacts)
        acks_one = _run(client, h, [o for _, o in one], batched=False)
    acks_batch = _run(client, h, [o for _, o in batch], batched=True)

    first = _outcome(engine, one, acks_one, {x1: "x", y1: "y"})
    second = _outcome(engine, batch, acks_batch, {x2: "x", y2: "y"})
    assert first == second
    # the scenario really covers what it claims to
    statuses = [a[0] for a in first["acks"]]
    assert statuses.count("rejected") == 2 and "conflict" in statuses
    follows = first["follow_ups"]
    assert {f[3] for f in follows} == {"open", "closed"}
    assert {f[4] for f in follows} == {"b", "e"}, "c, older and late, opens nothing"
    assert {f[5] for f in follows if f[3] == "closed"} == {"a"}
    assert [f[:2] for f in follows if f[4] == "e"] == [("y", "book_volumes")]
    _seqs_unique_and_ordered(engine)
    # and replaying the whole batch is a no-op answered from the stored acks
    assert _run(client, h, [o for _, o in batch], batched=True) == acks_batch


def test_an_op_that_raises_is_quarantined_alone(client, demo, engine, monkeypatch):
    h = login(client)
    code, version = village(engine)
    recs = [record(code, version, notes=f"n{i}") for i in range(3)]
    ops = [op(r) for r in recs]
    real = store.apply_outcome

    def flaky(row, facts):
        real(row, facts)
        if row.id == recs[1]["id"]:
            raise ValueError("boom")

    monkeypatch.setattr(store, "apply_outcome", flaky)
    answer = sync(client, h, *ops)
    acks = answer["acks"]
    assert [a["status"] for a in acks] == ["applied", "rejected", "applied"]
    # op by op, the records stored as sent are still not echoed back to their device
    assert not {r["id"] for r in recs} & {i["id"] for i in answer["changes"]["inspections"]}
    assert (acks[1]["code"], acks[1]["field"], acks[1]["rev"]) == ("invalid_op", "data", 0)
    with session_scope(engine) as s:
        assert s.get(Inspection, recs[1]["id"]) is None  # its writes were rolled back
        assert s.get(Inspection, recs[0]["id"]).rev == 1
        assert s.get(Inspection, recs[2]["id"]).rev == 1
        q = s.exec(select(Quarantine)).all()
        assert [(x.op_id, x.code) for x in q] == [(ops[1]["op_id"], "invalid_op")]
        assert q[0].raw["data"]["id"] == recs[1]["id"]
    monkeypatch.setattr(store, "apply_outcome", real)
    assert sync(client, h, *ops)["acks"] == acks  # replays, stored acks and all
    _seqs_unique_and_ordered(engine)


def test_a_record_the_database_refuses_is_quarantined_not_a_500(client, demo, engine):
    """PostgreSQL text cannot hold NUL; SQLite could, but no database is sent one (issue 11):
    the op is refused naming the field, and the other ops land."""
    h = login(client)
    code, version = village(engine)
    good, odd = record(code, version), record(code, version, notes="a\x00b")
    acks = sync(client, h, op(good), op(odd))["acks"]
    assert acks[0]["status"] == "applied"
    assert (acks[1]["status"], acks[1]["code"], acks[1]["field"]) == (
        "rejected",
        "invalid_op",
        "data.notes",
    )
    with session_scope(engine) as s:
        assert [x.code for x in s.exec(select(Quarantine))] == ["invalid_op"]


def test_a_transient_failure_retries_the_whole_batch_once_applied(
    client, demo, engine, monkeypatch
):
    h = login(client)
    code, version = village(engine)
    recs = [record(code, version, notes=f"n{i}") for i in range(4)]
    real = store.BatchRepo.flush
    calls = {"n": 0}

    def busy_once(self, *args, **kwargs):
        calls["n"] += 1
        real(self, *args, **kwargs)
        if calls["n"] == 1:
            raise OperationalError("COMMIT", {}, Exception("database is locked"))

    monkeypatch.setattr(store.BatchRepo, "flush", busy_once)
    acks = sync(client, h, *[op(r) for r in recs])["acks"]
    assert [a["status"] for a in acks] == ["applied"] * 4 and calls["n"] == 2
    with session_scope(engine) as s:
        assert len(s.exec(select(SyncOp)).all()) == 4
        assert all(s.get(Inspection, r["id"]).rev == 1 for r in recs)


def test_chained_edits_and_a_conflict_on_a_record_created_in_the_same_batch(client, demo, engine):
    h = login(client)
    code, version = village(engine)
    rec = record(code, version, notes="one")
    o1 = op(rec, hlc="0001764144000001:0000:d-1")
    o2 = op({**rec, "notes": "two"}, hlc="0001764144000002:0000:d-1", base_op_id=o1["op_id"])
    o3 = op({**rec, "notes": "three"}, hlc="0001764144000003:0000:d-1")  # stale create
    acks = sync(client, h, o1, o2, o3)["acks"]
    assert [(a["status"], a["rev"]) for a in acks] == [
        ("applied", 1),
        ("applied", 2),
        ("conflict", 3),
    ]
    with session_scope(engine) as s:
        insp = s.get(Inspection, rec["id"])
        assert (insp.rev, insp.notes) == (3, "three")
        conflict = s.get(SyncConflict, acks[2]["conflict_id"])
        assert (conflict.server_rev, conflict.merged_rev) == (2, 3)
        assert conflict.server_version["notes"] == "two"
    _seqs_unique_and_ordered(engine)


@pytest.mark.parametrize("n", [1, 7])
def test_seq_numbers_of_one_batch_are_contiguous_and_after_earlier_ones(client, demo, engine, n):
    h = login(client)
    code, version = village(engine)
    with session_scope(engine) as s:
        before = s.connection().exec_driver_sql("SELECT value FROM change_counter").scalar()
    recs = [record(code, version) for _ in range(n)]
    sync(client, h, *[op(r) for r in recs])
    with session_scope(engine) as s:
        seqs = [s.get(Inspection, r["id"]).seq for r in recs]
        after = s.connection().exec_driver_sql("SELECT value FROM change_counter").scalar()
    assert seqs == list(range(before + 1, before + n + 1)) and after == before + n
