"""One phone, two inspectors: an op says whose record it is (`author`), and the server
refuses it under anyone else's token with `author_mismatch`. The refusal is quarantined but
its ack is not stored, so the record's author can still send the very same op and have it
applied as theirs; nothing is lost and nothing is attributed to the wrong inspector."""

from __future__ import annotations

from sqlmodel import select

from server.db import session_scope
from server.models import Inspection, Quarantine, User
from sync.errors import MESSAGES
from tests.api.helpers import login, op, record, submitted, sync, village


def _user_id(engine, username: str) -> int:
    with session_scope(engine) as s:
        uid = s.exec(select(User.id).where(User.username == username)).one()
    assert uid is not None
    return uid


def test_another_users_op_is_refused_then_applied_for_its_author(client, demo, engine):
    a, b = _user_id(engine, "inspector"), _user_id(engine, "inspector2")
    code, version = village(engine)
    o = op(submitted(record(code, version)), author=a)
    # B's login on the shared phone (a buggy client) sends A's record
    hb = login(client, "inspector2")
    ack = sync(client, hb, o)["acks"][0]
    assert (ack["status"], ack["code"], ack["field"], ack["rev"]) == (
        "rejected",
        "author_mismatch",
        "author",
        0,
    )
    assert str(a) in ack["message_zh"] and str(a) in ack["message_en"]
    assert sync(client, hb, o)["acks"][0] == ack  # the same answer again, nothing stored
    with session_scope(engine) as s:
        assert s.get(Inspection, o["record_id"]) is None
        (q,) = s.exec(select(Quarantine)).all()
        assert (q.op_id, q.code, q.user_id) == (o["op_id"], "author_mismatch", b)
    # A logs in again on the same phone: the same bytes apply, as A's
    ha = login(client, "inspector")
    assert sync(client, ha, o)["acks"][0]["status"] == "applied"
    assert sync(client, ha, o)["acks"][0]["status"] == "applied"  # a replay
    with session_scope(engine) as s:
        ins = s.get(Inspection, o["record_id"])
        assert ins is not None and ins.inspector_id == a and ins.rev == 1
        assert len(s.exec(select(Inspection).where(Inspection.id == o["record_id"])).all()) == 1
    # and B's client sending it once more is still refused, the record untouched
    hb = login(client, "inspector2")
    assert sync(client, hb, o)["acks"][0]["code"] == "author_mismatch"
    with session_scope(engine) as s:
        ins = s.get(Inspection, o["record_id"])
        assert ins is not None and (ins.inspector_id, ins.rev) == (a, 1)


def test_own_author_applies_and_a_malformed_author_is_an_invalid_op(client, demo, engine):
    a = _user_id(engine, "inspector")
    code, version = village(engine)
    h = login(client)
    good = op(record(code, version), author=a)
    assert sync(client, h, good)["acks"][0]["status"] == "applied"
    for bad, why in ((0, "user id"), ("3", "int"), (True, "true/false")):
        ack = sync(client, h, op(record(code, version), author=bad))["acks"][0]
        assert (ack["status"], ack["code"], ack["field"]) == ("rejected", "invalid_op", "author")
        assert why in ack["message_en"]
    assert "author_mismatch" in MESSAGES
