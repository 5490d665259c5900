"""Each point's change row carries its latest submitted inspection, by any inspector
(`last_inspection`, docs/sync-protocol.md "Change rows"), so a phone knows a colleague's
visit without pulling the colleague's records. Whenever that summary changes the point is
stamped again in the same transaction: a new latest submission, a re-evaluation, evidence
completing, a supervisor's resolution. On SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

import server.services.sync_batch as store
from server.db import session_scope
from server.models import Cycle, FollowUp, Inspection, ServicePoint, User
from server.services.changes import stamp
from tests.api.helpers import login, op, sync, village

PHOTO = (Path(__file__).resolve().parents[2] / "server/demo/photos/register.jpg").read_bytes()
PHOTO_SHA = hashlib.sha256(PHOTO).hexdigest()
T = datetime(2026, 11, 20, 9, tzinfo=UTC)


@pytest.fixture
def setup(client, demo, engine) -> dict:
    """Two inspectors of one county, a new point near the demo's first village point, the
    answers and photos of a demo inspection that passed every item, the current cycle."""
    code, version = village(engine)
    with session_scope(engine, write=True) as s:
        near = s.exec(select(ServicePoint).where(ServicePoint.code == code)).one()
        point = ServicePoint(
            code=code[:9] + "977", name="测试点", kind="village", township_id=near.township_id
        )
        stamp(s, point)
        good = next(
            i
            for i in s.exec(
                select(Inspection)
                .join(ServicePoint)
                .where(ServicePoint.kind == "village", Inspection.rating == "good")
                .order_by(Inspection.submitted_at, Inspection.id)
            )
            if i.result["rating"]["passed"] == i.result["rating"]["scored"]
        )
        cycle = s.exec(select(Cycle).where(Cycle.current.is_(True))).one()
        names = {u.username: (u.id, u.display_name) for u in s.exec(select(User))}
    me, colleague = login(client, "inspector", "d-1"), login(client, "inspector2", "d-2")
    return {
        "code": point.code,
        "version": version,
        "answers": good.answers,
        "photos": [{**p, "size": 1000, "taken_at": T.isoformat()} for p in good.photos],
        "cycle": cycle.id,
        "me": me,
        "colleague": colleague,
        "cursor": _pull(client, me)[1],
        "users": names,
    }


def _pull(client, h, cursor=None, device="d-1") -> tuple[dict[str, dict], str]:
    """Every point row pulled from ``cursor`` on (all pages), by code; the new cursor."""
    points: dict[str, dict] = {}
    while True:
        body = sync(client, h, cursor=cursor, device=device)
        points.update({p["code"]: p for p in body["changes"]["points"]})
        cursor = body["cursor"]
        if not body["more"]:
            return points, cursor


def _visit(setup, at: datetime = T, device: str = "d-2", **over) -> dict:
    rec = {
        "id": str(uuid.uuid4()),
        "point_code": setup["code"],
        "template_key": "village_point",
        "template_version": setup["version"],
        "cycle_id": setup["cycle"],
        "status": "submitted",
        "answers": dict(setup["answers"]),
        "photos": list(setup["photos"]),
        "gps": None,
        "notes": "",
        "started_at": (at - timedelta(minutes=30)).isoformat(),
        "submitted_at": at.isoformat(),
        "device_id": device,
    }
    rec.update(over)
    return rec


def _summary(setup, rec: dict, who: str, **over) -> dict:
    uid, name = setup["users"][who]
    out = {
        "id": rec["id"],
        "submitted_at": datetime.fromisoformat(rec["submitted_at"]).astimezone(UTC).isoformat(),
        "rating": "good",
        "cycle_id": rec["cycle_id"],
        "inspector_id": uid,
        "inspector": name,
        "evidence_complete": True,
    }
    out.update(over)
    return out


def test_a_colleagues_visit_reaches_my_phone_on_the_point(client, engine, setup):
    first, _ = _pull(client, setup["me"])
    assert first[setup["code"]]["last_inspection"] is None
    rec = _visit(setup)
    ack = sync(client, setup["colleague"], op(rec), device="d-2")["acks"][0]
    assert ack["status"] == "applied"
    body = sync(client, setup["me"], cursor=setup["cursor"])
    assert [p["code"] for p in body["changes"]["points"]] == [setup["code"]]
    (row,) = body["changes"]["points"]
    assert row["last_inspection"] == _summary(setup, rec, "inspector2")
    assert body["changes"]["inspections"] == []  # the record itself stays the colleague's
    # and from the beginning too
    assert _pull(client, setup["me"])[0][setup["code"]]["last_inspection"]["id"] == rec["id"]


def test_what_changes_the_summary_and_what_does_not(client, engine, setup):
    me, colleague, cursor = setup["me"], setup["colleague"], setup["cursor"]
    rec = _visit(setup)
    sync(client, colleague, op(rec, hlc="0001764144000001:0000:d-2"), device="d-2")
    points, cursor = _pull(client, me, cursor)
    assert points[setup["code"]]["last_inspection"]["rating"] == "good"

    # re-evaluated: a critical item now fails
    worse = {**rec, "answers": {**rec["answers"], "book_volumes": 900}}
    sync(client, colleague, op(worse, 1, "0001764144000002:0000:d-2"), device="d-2")
    points, cursor = _pull(client, me, cursor)
    assert points[setup["code"]]["last_inspection"] == _summary(
        setup, rec, "inspector2", rating="fail"
    )

    # notes only: the summary is the same, the point is not sent again
    noted = {**worse, "notes": "门口已修"}
    sync(client, colleague, op(noted, 2, "0001764144000003:0000:d-2"), device="d-2")
    points, cursor = _pull(client, me, cursor)
    assert setup["code"] not in points

    # my own older visit, synced late, is not the latest
    older = _visit(setup, T - timedelta(days=3), device="d-1")
    assert sync(client, me, op(older))["acks"][0]["status"] == "applied"
    points, cursor = _pull(client, me, cursor)
    assert setup["code"] not in points

    # my later one is
    later = _visit(setup, T + timedelta(days=1), device="d-1")
    sync(client, me, op(later))
    points, cursor = _pull(client, me, cursor)
    assert points[setup["code"]]["last_inspection"] == _summary(setup, later, "inspector")
    points, _ = _pull(client, colleague, device="d-2")
    assert points[setup["code"]]["last_inspection"]["inspector"] == "宋瞾静"


def test_evidence_completing_sends_the_point_again(client, engine, setup):
    extra = {
        "sha256": PHOTO_SHA,
        "item": "signboard",
        "size": len(PHOTO),
        "mime": "image/jpeg",
        "taken_at": T.isoformat(),
    }
    rec = _visit(setup, photos=[*setup["photos"], extra])
    sync(client, setup["colleague"], op(rec), device="d-2")
    points, cursor = _pull(client, setup["me"], setup["cursor"])
    assert points[setup["code"]]["last_inspection"]["evidence_complete"] is False
    put = client.put(f"/api/blobs/{PHOTO_SHA}", headers=setup["colleague"], content=PHOTO)
    assert put.status_code == 200 and put.json()["complete"]
    points, _ = _pull(client, setup["me"], cursor)
    assert points[setup["code"]]["last_inspection"] == _summary(setup, rec, "inspector2")


def test_a_supervisors_resolution_that_changes_the_rating_sends_the_point_again(
    client, engine, setup
):
    colleague, other = setup["colleague"], login(client, "inspector2", "d-3")
    rec = _visit(setup)
    sync(client, colleague, op(rec, hlc="0001764144000001:0000:d-2"), device="d-2")
    worse = {**rec, "answers": {**rec["answers"], "book_volumes": 900}}
    sync(client, colleague, op(worse, 1, "0001764144000002:0000:d-2"), device="d-2")
    fixed = {**rec, "answers": {**rec["answers"], "book_volumes": 1700}}
    ack = sync(client, other, op(fixed, 1, "0001764144000003:0000:d-3"), device="d-3")["acks"][0]
    assert ack["status"] == "conflict"
    points, cursor = _pull(client, setup["me"], setup["cursor"])
    assert points[setup["code"]]["last_inspection"]["rating"] == "good"  # the later edit won
    sup = login(client, "supervisor", "d-sup")
    r = client.post(
        f"/api/conflicts/{ack['conflict_id']}/resolve", headers=sup, json={"take": "server"}
    )
    assert r.status_code == 200
    points, _ = _pull(client, setup["me"], cursor)
    assert points[setup["code"]]["last_inspection"]["rating"] == "fail"


def test_one_batch_stamps_each_point_once_among_its_other_writes(client, engine, setup):
    me = setup["me"]
    recs = [_visit(setup, T + timedelta(hours=n), device="d-1") for n in range(3)]
    bad = {**recs[1], "answers": {**recs[1]["answers"], "book_volumes": 900}}
    ops = [op(r, hlc=f"000176414400000{n}:0000:d-1") for n, r in enumerate(recs)]
    ops.append(op(bad, hlc="0001764144000009:0000:d-1", base_op_id=ops[1]["op_id"]))
    with session_scope(engine) as s:
        before = s.connection().exec_driver_sql("SELECT value FROM change_counter").scalar()
    acks = sync(client, me, *ops)["acks"]
    assert [a["status"] for a in acks] == ["applied"] * 4
    points, _ = _pull(client, me, setup["cursor"])
    assert points[setup["code"]]["last_inspection"]["id"] == recs[2]["id"]
    with session_scope(engine) as s:
        seqs = [r.seq for r in s.exec(select(Inspection))]
        seqs += [r.seq for r in s.exec(select(FollowUp))]
        seqs += [r.seq for r in s.exec(select(ServicePoint))]
        counter = s.connection().exec_driver_sql("SELECT value FROM change_counter").scalar()
        point_seq = s.exec(select(ServicePoint.seq).where(ServicePoint.code == setup["code"])).one()
    stamped = [q for q in seqs if q]
    assert len(stamped) == len(set(stamped)) and max(stamped) <= counter
    # one number per changed row: three inspections, the point once
    assert before < point_seq <= counter == before + 4


def test_an_op_that_raises_takes_its_point_stamp_with_it(client, engine, setup, monkeypatch):
    real = store.apply_outcome
    recs = [_visit(setup, T + timedelta(hours=n), device="d-1") for n in range(2)]

    def flaky(row, facts):
        real(row, facts)
        if row.id == recs[1]["id"]:
            raise ValueError("boom")

    monkeypatch.setattr(store, "apply_outcome", flaky)
    acks = sync(client, setup["me"], *[op(r) for r in recs])["acks"]
    assert [a["status"] for a in acks] == ["applied", "rejected"]
    points, _ = _pull(client, setup["me"], setup["cursor"])
    assert points[setup["code"]]["last_inspection"]["id"] == recs[0]["id"]


def test_every_demo_point_shows_its_latest_visit(client, engine, setup):
    points, _ = _pull(client, setup["me"])
    with session_scope(engine) as s:
        latest: dict[str, tuple] = {}
        rows = s.exec(
            select(ServicePoint.code, Inspection.submitted_at, Inspection.id, User.display_name)
            .join(ServicePoint, ServicePoint.id == Inspection.point_id)
            .join(User, User.id == Inspection.inspector_id)
            .where(Inspection.status == "submitted")
        )
        for code, at, iid, name in rows:
            latest[code] = max(latest.get(code, (at, iid, name)), (at, iid, name))
    shown = {c: p["last_inspection"] for c, p in points.items() if p["last_inspection"]}
    assert len(shown) > 10
    assert {c: (s["id"], s["inspector"]) for c, s in shown.items()} == {
        c: (iid, name) for c, (_, iid, name) in latest.items()
    }
    assert {s["inspector"] for s in shown.values()} == {"宋瞾静", "刘凯妮"}
