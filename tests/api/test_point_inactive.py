"""A closed service point (`active: false`) takes no new inspection: the create is quarantined
as `point_inactive`. An inspection the server already holds was started before the point
closed, so its edits (the submission, above all) are still applied."""

from __future__ import annotations

from sqlmodel import select

from server.db import session_scope
from server.models import Inspection, Quarantine, ServicePoint
from sync.errors import MESSAGES
from tests.api.helpers import login, op, record, submitted, sync, village


def _close(engine, code: str) -> None:
    with session_scope(engine, write=True) as s:
        point = s.exec(select(ServicePoint).where(ServicePoint.code == code)).one()
        point.active = False
        s.add(point)


def test_a_new_inspection_of_a_closed_point_is_quarantined(client, demo, engine):
    h = login(client)
    code, version = village(engine)
    _close(engine, code)
    o = op(record(code, version))
    ack = sync(client, h, o)["acks"][0]
    assert (ack["status"], ack["code"], ack["field"], ack["rev"]) == (
        "rejected",
        "point_inactive",
        "point_code",
        0,
    )
    assert code in ack["message_zh"] and code in ack["message_en"]
    assert sync(client, h, o)["acks"][0] == ack  # a replay answers the stored ack
    with session_scope(engine) as s:
        assert s.get(Inspection, o["record_id"]) is None
        (q,) = s.exec(select(Quarantine)).all()
        assert (q.op_id, q.code, q.field, q.point_code) == (
            o["op_id"],
            "point_inactive",
            "point_code",
            code,
        )
    sup = login(client, "supervisor", "d-sup")
    rows = client.get("/api/quarantine?code=point_inactive", headers=sup).json()["quarantine"]
    assert [r["op_id"] for r in rows] == [o["op_id"]]


def test_edits_to_an_inspection_started_before_the_point_closed_still_apply(client, demo, engine):
    h = login(client)
    code, version = village(engine)
    rec = record(code, version, answers={"book_volumes": 1600})
    first = op(rec, hlc="0001764144000001:0000:d-1")
    assert sync(client, h, first)["acks"][0]["status"] == "applied"
    _close(engine, code)
    # in one request: the submission of the held record, a chained edit of it, and a new one
    sub = op(submitted(rec), base_rev=1, hlc="0001764144000002:0000:d-1")
    chained = op(
        {**submitted(rec), "notes": "补充"},
        hlc="0001764144000003:0000:d-1",
        base_op_id=sub["op_id"],
    )
    new = op(record(code, version), hlc="0001764144000004:0000:d-1")
    acks = sync(client, h, sub, chained, new)["acks"]
    assert [(a["status"], a["rev"], a.get("code")) for a in acks] == [
        ("applied", 2, None),
        ("applied", 3, None),
        ("rejected", 0, "point_inactive"),
    ]
    with session_scope(engine) as s:
        got = s.get(Inspection, rec["id"])
        assert (got.status, got.notes, got.rev) == ("submitted", "补充", 3)
        assert got.rating is not None
        assert s.get(Inspection, new["record_id"]) is None


def test_the_code_has_messages_in_both_languages():
    zh, en = MESSAGES["point_inactive"]
    assert "{point_code}" in zh and "{point_code}" in en
