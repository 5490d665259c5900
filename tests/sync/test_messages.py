"""Strict parsing names the bad field; body faults become rejections, not 400s."""

from __future__ import annotations

import pytest

from sync.errors import MessageError
from sync.messages import Ack, BadOp, Op, SyncRequest, SyncResponse, body_hash
from tests.sync.factories import inspection, op, photo


def request(*ops, **over):
    body = {"protocol": 1, "device_id": "d-1", "cursor": None, "ops": list(ops)}
    body.update(over)
    return body


def test_round_trip_op():
    raw = op(inspection(answers={"book_volumes": 1600}, photos=[photo(b"x")]))
    parsed = Op.from_json(raw)
    assert parsed.to_json() == raw
    assert parsed.body_hash() == body_hash(dict(reversed(list(raw.items()))))


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda o: o.pop("hlc"), "ops[0].hlc"),
        (lambda o: o.update(base_rev=-1), "ops[0].base_rev"),
        (lambda o: o.update(base_rev=True), "ops[0].base_rev"),
        (lambda o: o["data"].update(status="done"), "ops[0].data.status"),
        (lambda o: o["data"].update(photos=[{"sha256": "ab"}]), "ops[0].data.photos[0].sha256"),
        (lambda o: o["data"].update(gps={"lat": 91, "lon": 0}), "ops[0].data.gps.lat"),
        (lambda o: o["data"].update(id="other"), "ops[0].data.id"),
        (lambda o: o["data"].update(status="submitted"), "ops[0].data.submitted_at"),
        (lambda o: o.update(extra=1), "ops[0].extra"),
    ],
)
def test_body_faults_become_bad_ops_naming_the_field(mutate, field):
    raw = op(inspection())
    mutate(raw)
    req = SyncRequest.from_json(request(raw))
    bad = req.ops[0]
    assert isinstance(bad, BadOp)
    assert f"ops[0].{bad.rejection.field}" == field
    assert bad.rejection.code == "invalid_op"


def test_unknown_type_is_its_own_code():
    raw = op(inspection(), type="point.delete")
    bad = SyncRequest.from_json(request(raw)).ops[0]
    assert isinstance(bad, BadOp) and bad.rejection.code == "unknown_op_type"


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ([], "body", "bad_field"),
        (request(protocol=2), "protocol", "protocol_unsupported"),
        (request(device_id=""), "device_id", "bad_field"),
        (request(device_id="has space"), "device_id", "bad_field"),
        (request(ops={}), "ops", "bad_field"),
        (request({"type": "inspection.put"}), "ops[0].op_id", "bad_field"),
        (request(cursor=5), "cursor", "bad_field"),
    ],
)
def test_envelope_faults_raise(body, field, code):
    with pytest.raises(MessageError) as err:
        SyncRequest.from_json(body)
    assert err.value.field == field
    assert err.value.code == code


def test_duplicate_op_id_in_one_request_is_refused():
    raw = op(inspection())
    with pytest.raises(MessageError) as err:
        SyncRequest.from_json(request(raw, dict(raw)))
    assert err.value.field == "ops[1].op_id"


def test_too_many_ops():
    with pytest.raises(MessageError) as err:
        SyncRequest.from_json(request(*[op(inspection()) for _ in range(3)]), max_ops=2)
    assert err.value.code == "too_many_ops"


def test_response_round_trip():
    resp = SyncResponse(
        acks=[Ack("o1", "rejected", "r1", 0, "unknown_point", "zh", "en", "data.point_code")],
        changes={"points": [{"id": "p"}]},
        missing_blobs=["a" * 64],
        cursor="c1",
        more=False,
        server_time="2024-11-26T00:00:00+00:00",
    )
    back = SyncResponse.from_json(resp.to_json())
    assert back.acks == resp.acks
    assert back.changes["points"] == [{"id": "p"}]
    assert back.changes["inspections"] == []


def test_response_rejects_bad_ack_status():
    body = {
        "acks": [{"op_id": "o", "status": "ok", "record_id": "r", "rev": 1}],
        "changes": {},
        "missing_blobs": [],
        "cursor": "",
        "more": False,
        "server_time": "",
    }
    with pytest.raises(MessageError) as err:
        SyncResponse.from_json(body)
    assert err.value.field == "acks[0].status"
