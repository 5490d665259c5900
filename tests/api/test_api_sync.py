"""/api/sync over HTTP (in-process) on SQLite and PostgreSQL: exactly-once, conflicts,
quarantine, scope, gzip and pagination."""

from __future__ import annotations

import gzip
import json

import pytest
from sqlmodel import select

from server.db import session_scope
from server.models import Area, Inspection, Quarantine, ServicePoint, SyncOp, User
from server.services.auth import hash_password
from tests.api.helpers import login, op, record, submitted, sync, village
from tests.logins import DEMO_PASSWORD


@pytest.fixture
def h(client, demo):
    return login(client)


def test_push_then_replay_is_exactly_once(client, h, engine):
    code, version = village(engine)
    rec = record(code, version, answers={"book_volumes": 1600})
    o = op(rec)
    first = sync(client, h, o)
    assert first["acks"] == [
        {"op_id": o["op_id"], "status": "applied", "record_id": rec["id"], "rev": 1}
    ]
    # the device's own unchanged write is not echoed back
    assert rec["id"] not in {i["id"] for i in first["changes"]["inspections"]}
    again = sync(client, h, o, cursor=first["cursor"])
    assert again["acks"] == first["acks"]
    with session_scope(engine) as s:
        assert s.get(Inspection, rec["id"]).rev == 1
        assert len(s.exec(select(SyncOp)).all()) == 1


def test_same_op_id_other_body_is_rejected_and_quarantined(client, h, engine):
    code, version = village(engine)
    rec = record(code, version)
    o = op(rec)
    sync(client, h, o)
    changed = {**o, "data": {**rec, "notes": "different"}}
    ack = sync(client, h, changed)["acks"][0]
    assert (ack["status"], ack["code"]) == ("rejected", "op_id_reused")
    assert "op_id" in ack["message_en"] or ack["op_id"] in ack["message_en"]
    with session_scope(engine) as s:
        assert s.get(Inspection, rec["id"]).notes == ""
        q = s.exec(select(Quarantine)).all()
        assert [x.code for x in q] == ["op_id_reused"]


@pytest.mark.parametrize(
    ("mutate", "code", "field"),
    [
        (lambda r: r.update(point_code="999999999999"), "unknown_point", "point_code"),
        (lambda r: r.update(template_version=99), "unknown_template", "template_version"),
        (lambda r: r.update(template_key="township_branch"), "template_mismatch", "template_key"),
        (lambda r: r.update(answers={"book_volumes": -3}), "bad_value", "answers.book_volumes"),
        (lambda r: r.update(answers={"seats": 8.5}), "bad_value", "answers.seats"),  # a count
        (lambda r: r.update(answers={"nope": 1}), "bad_value", "answers.nope"),
        (lambda r: r.update(cycle_id=9999), "unknown_cycle", "cycle_id"),
        (lambda r: r.update(status="finished"), "invalid_op", "data.status"),
    ],
)
def test_invalid_ops_are_quarantined_with_reason(client, h, engine, mutate, code, field):
    pc, version = village(engine)
    rec = record(pc, version)
    mutate(rec)
    o = op(rec)
    ack = sync(client, h, o)["acks"][0]
    assert (ack["status"], ack["code"], ack["field"]) == ("rejected", code, field)
    assert ack["message_zh"] and ack["message_en"]
    assert sync(client, h, o)["acks"][0] == ack  # replay: same ack
    sup = login(client, "supervisor", "d-sup")
    rows = client.get("/api/quarantine", headers=sup).json()["quarantine"]
    assert [(r["op_id"], r["code"], r["field"]) for r in rows] == [(o["op_id"], code, field)]
    assert rows[0]["op"]["data"]["id"] == rec["id"]


def test_out_of_scope_point_is_rejected(client, demo, engine):
    with session_scope(engine, write=True) as s:
        townships = s.exec(select(Area).where(Area.level == "township").order_by(Area.code)).all()
        s.add(
            User(
                username="local",
                display_name="乡镇员",
                role="inspector",
                area_id=townships[0].id,
                password_hash=hash_password(DEMO_PASSWORD),
            )
        )
        other = s.exec(
            select(ServicePoint).where(
                ServicePoint.township_id == townships[1].id, ServicePoint.kind == "village"
            )
        ).first()
        own = s.exec(select(ServicePoint).where(ServicePoint.township_id == townships[0].id)).all()
    h = login(client, "local", "d-local")
    _, version = village(engine)
    ack = sync(client, h, op(record(other.code, version)), device="d-local")["acks"][0]
    assert (ack["status"], ack["code"]) == ("rejected", "out_of_scope")
    pulled = sync(client, h, device="d-local")["changes"]["points"]
    assert {p["code"] for p in pulled} == {p.code for p in own}


def test_stale_edit_conflict_is_kept_and_resolvable(client, h, engine):
    code, version = village(engine)
    h2 = login(client, "inspector", "d-2")
    rec = record(code, version, answers={"book_volumes": 1000, "seats": 8})
    sync(client, h, op(rec))
    a = op(
        {**rec, "answers": {"book_volumes": 1600, "seats": 8}},
        base_rev=1,
        hlc="0001764144000005:0000:d-1",
    )
    b = op(
        {**rec, "answers": {"book_volumes": 1200, "seats": 10}},
        base_rev=1,
        hlc="0001764144000009:0000:d-2",
    )
    assert sync(client, h, a)["acks"][0]["status"] == "applied"
    ack = sync(client, h2, b, device="d-2")["acks"][0]
    assert ack["status"] == "conflict" and ack["field"] == "answers.book_volumes"
    with session_scope(engine) as s:
        assert s.get(Inspection, rec["id"]).answers == {"book_volumes": 1200, "seats": 10}
    sup = login(client, "supervisor", "d-sup")
    (c,) = client.get("/api/conflicts", headers=sup).json()["conflicts"]
    assert c["id"] == ack["conflict_id"]
    assert c["server_version"]["answers"]["book_volumes"] == 1600
    assert c["client_version"]["answers"]["book_volumes"] == 1200
    assert client.get("/api/conflicts", headers=h).status_code == 403
    r = client.post(f"/api/conflicts/{c['id']}/resolve", headers=sup, json={"take": "server"})
    assert r.status_code == 200 and r.json()["status"] == "resolved"
    with session_scope(engine) as s:
        got = s.get(Inspection, rec["id"])
        assert got.answers == {"book_volumes": 1600, "seats": 10} and got.rev == 4
    again = client.post(f"/api/conflicts/{c['id']}/resolve", headers=sup, json={"take": "client"})
    assert again.status_code == 409
    # the device learns the merged, then resolved, record on its next pull
    rows = sync(client, h2, device="d-2")["changes"]["inspections"]
    mine = [r for r in rows if r["id"] == rec["id"]]
    assert mine[0]["answers"]["book_volumes"] == 1600 and mine[0]["rev"] == 4


def test_submitted_inspection_is_evaluated(client, h, engine):
    code, version = village(engine)
    rec = submitted(record(code, version, answers={"book_volumes": 1600}))
    sync(client, h, op(rec))
    with session_scope(engine) as s:
        got = s.get(Inspection, rec["id"])
        # one answer of many: the rest was not inspected, so the point is 未完成, not 不达标
        assert got.status == "submitted" and got.rating == "incomplete"
        assert got.result["items"]["book_volumes"]["status"] == "pass"
        assert "seats" in got.result["rating"]["not_inspected"]


def test_gzip_both_ways_and_pagination(client, demo, engine, settings):
    h = login(client)
    body = json.dumps({"protocol": 1, "device_id": "d-1", "cursor": None, "ops": []}).encode()
    r = client.post(
        "/api/sync",
        content=gzip.compress(body),
        headers={**h, "Content-Encoding": "gzip", "Accept-Encoding": "gzip"},
    )
    assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"
    total = sum(len(v) for v in r.json()["changes"].values())
    assert total > 100 and r.json()["more"] is False

    from starlette.testclient import TestClient

    from server.app import create_app

    small = settings.__class__(**{**settings.__dict__, "sync_page_size": 40})
    with TestClient(create_app(small)) as c2:
        h2 = login(c2)
        cursor, seen, pages = None, 0, 0
        while True:
            b = sync(c2, h2, cursor=cursor)
            seen += sum(len(v) for v in b["changes"].values())
            cursor, pages = b["cursor"], pages + 1
            if not b["more"]:
                break
        assert seen == total and pages == -(-total // 40)


def _drain(c, h, cursor, device="d-1") -> tuple[list[dict], str]:
    """Pull every page after `cursor`, as the field app does after a batch."""
    seen: list[dict] = []
    while True:
        b = sync(c, h, cursor=cursor, device=device)
        seen += b["changes"]["inspections"]
        cursor = b["cursor"]
        if not b["more"]:
            return seen, cursor


def test_later_pages_leave_out_what_the_device_sent(demo, engine, settings):
    """A batch whose changes fill more than a page: the pages the device pulls after it
    (requests of no ops) do not download its own records back while they are as it sent
    them, nor does a pull from the start (it keeps what it made). Its other device gets
    them, and this device gets one once someone else changed it."""
    from starlette.testclient import TestClient

    from server.app import create_app

    small = settings.__class__(**{**settings.__dict__, "sync_page_size": 3})
    with TestClient(create_app(small)) as c:
        h = login(c)
        _, cursor = _drain(c, h, None)
        recs = [submitted(record(village(engine, n)[0], village(engine)[1])) for n in range(3)]
        ids = {r["id"] for r in recs}
        first = sync(c, h, *[op(r) for r in recs], cursor=cursor)
        assert first["more"] and {a["status"] for a in first["acks"]} == {"applied"}
        later, cursor = _drain(c, h, first["cursor"])
        assert not ids & {i["id"] for i in first["changes"]["inspections"] + later}
        with session_scope(engine) as s:
            rows = [s.get(Inspection, i) for i in ids]
            assert {(r.echo_device, r.echo_seq) for r in rows} == {("d-1", r.seq) for r in rows}

        h2 = login(c, device="d-2")
        theirs, cursor2 = _drain(c, h2, None, device="d-2")
        assert ids <= {i["id"] for i in theirs}
        again, _ = _drain(c, h, None)
        assert not ids & {i["id"] for i in again}
        assert len(again) > 10  # the demo's records of this inspector, from the start

        # the other device edits one record: this device is sent it, the editor is not
        edited = {**recs[0], "notes": "门锁已换"}
        hlc = "0001764144000001:0000:d-2"
        ack = sync(c, h2, op(edited, base_rev=1, hlc=hlc), cursor=cursor2, device="d-2")
        assert ack["acks"][0]["status"] == "applied"
        theirs, _ = _drain(c, h2, ack["cursor"], device="d-2")
        assert edited["id"] not in {i["id"] for i in ack["changes"]["inspections"] + theirs}
        mine, _ = _drain(c, h, cursor)
        assert [(i["id"], i["notes"], i["rev"]) for i in mine] == [(edited["id"], "门锁已换", 2)]


def test_envelope_errors_name_the_field(client, h):
    r = client.post(
        "/api/sync",
        headers=h,
        json={"protocol": 1, "device_id": "d-1", "ops": [{"type": "inspection.put"}]},
    )
    assert r.status_code == 400
    assert r.json()["error"]["field"] == "ops[0].op_id"
    r = client.post("/api/sync", headers=h, content=b"{not json")
    assert r.json()["error"]["code"] == "bad_json"
    r = client.post("/api/sync", headers={**h, "Content-Encoding": "gzip"}, content=b"xx")
    assert r.json()["error"]["code"] == "bad_gzip"
    r = client.post("/api/sync", headers=h, json={"protocol": 9, "device_id": "d-1"})
    assert r.json()["error"]["code"] == "protocol_unsupported"
    r = client.post("/api/sync", headers=h, json={"protocol": 1, "device_id": "d-other"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "device_mismatch"
