"""JSON Schemas of the sync wire types, built from what the code validates with.

Why built, not written: a hand-written copy drifted (no `rev`, none of the length limits,
the protocol version typed in, change rows as bare objects). Here the limits, field lists,
patterns and enums come from `sync/` (records.py, messages.py, hlc.py), which stays
stdlib-only; the change rows are the shapes `services/sync_pull.Serializer` emits, closed
with `additionalProperties: false` so that tests/api/test_openapi.py, which validates real
responses against these schemas, fails when the serializer grows a field this file lacks.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sync import hlc, records
from sync.messages import (
    ACK_STATUSES,
    CHANGE_KINDS,
    MAX_ID_LEN,
    OP_FIELDS,
    OP_TYPES,
    PROTOCOL,
    Ack,
    SyncResponse,
)


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _null(schema: dict) -> dict:
    return {"anyOf": [schema, {"type": "null"}]}


STR = {"type": "string"}
INT = {"type": "integer"}
NUM = {"type": "number"}
BOOL = {"type": "boolean"}
OBJ = {"type": "object"}
WHEN = {"type": "string", "format": "date-time"}
DAY = {"type": "string", "format": "date"}
SHA = {"type": "string", "pattern": records.SHA256_RE.pattern}
ID = {"type": "string", "minLength": 1, "maxLength": MAX_ID_LEN}


def _closed(props: dict, required: tuple[str, ...] | list[str] | None = None) -> dict:
    return {
        "type": "object",
        "required": list(props if required is None else required),
        "properties": props,
        "additionalProperties": False,
    }


def _photo() -> dict:
    return {
        "type": "object",
        "required": ["sha256", "item", "size", "mime"],
        "properties": {
            "sha256": SHA,
            "item": {"type": "string", "minLength": 1},
            "size": {"type": "integer", "minimum": 1},
            "mime": {"type": "string", "pattern": "^image/"},
            "taken_at": _null(WHEN),
        },
    }


def _gps() -> dict:
    props: dict[str, Any] = {
        key: {"type": "number", "minimum": lo, "maximum": hi} for key, lo, hi in records.GPS_RANGES
    }
    props["accuracy"] = _null({"type": "number", "minimum": 0})
    props["at"] = _null(WHEN)
    return _null(
        {"type": "object", "required": [k for k, *_ in records.GPS_RANGES], "properties": props}
    )


def _inspection() -> dict:
    """The record an op carries (sync/records.validate_inspection)."""
    code = {"type": "string", "minLength": 1, "maxLength": records.MAX_CODE}
    props = {
        "id": {"type": "string", "minLength": 1, "maxLength": records.MAX_RECORD_ID},
        "point_code": code,
        "template_key": code,
        "template_version": {"type": "integer", "minimum": 1},
        "cycle_id": _null(INT),
        "status": {"enum": list(records.STATUSES)},
        "answers": {"type": "object", "maxProperties": records.MAX_ANSWERS},
        "photos": {"type": "array", "maxItems": records.MAX_PHOTOS, "items": ref("Photo")},
        "gps": _gps(),
        "notes": {"type": "string", "maxLength": records.MAX_NOTES},
        "started_at": _null(WHEN),
        "submitted_at": _null(WHEN),
        "device_id": _null({"type": "string", "maxLength": records.MAX_DEVICE_ID}),
        "rev": {"type": "integer", "minimum": 0},
    }
    assert set(props) == records.KNOWN, "sync/records.py KNOWN changed: describe the field here"
    return _closed(props, list(records.REQUIRED))


def _stored_inspection() -> dict:
    """An inspection as the server sends it: the record plus what only the server computes."""
    base = _inspection()
    props = {
        **base["properties"],
        "rev": {"type": "integer", "minimum": 1},
        "rating": _null(STR),
        "result": _null(OBJ),
        "evidence_complete": BOOL,
        "evidence_pending": BOOL,
    }
    return _closed(props, [*records.REQUIRED, "rev", "evidence_pending"])


def _op() -> dict:
    props = {
        "op_id": ID,
        "type": {"enum": list(OP_TYPES)},
        "record_id": ID,
        "base_rev": {"type": "integer", "minimum": 0},
        "hlc": {"type": "string", "pattern": hlc.HLC_PATTERN},
        "data": ref("Inspection"),
        "base_op_id": ID,
        "author": {"type": "integer", "minimum": 1},
    }
    assert tuple(props) == OP_FIELDS, "sync/messages.py OP_FIELDS changed"
    return _closed(props, ["op_id", "type", "record_id", "base_rev", "hlc", "data"])


def _ack() -> dict:
    types = {"op_id": STR, "status": {"enum": list(ACK_STATUSES)}, "record_id": STR}
    props = {
        f.name: types.get(f.name, INT if "int" in str(f.type) else STR)
        for f in dataclasses.fields(Ack)
    }
    required = [f.name for f in dataclasses.fields(Ack) if f.default is dataclasses.MISSING]
    return _closed(props, required)


LAST_INSPECTION = _null(
    _closed(
        {
            "id": STR,
            "submitted_at": WHEN,
            "rating": _null(STR),
            "cycle_id": _null(INT),
            "inspector_id": INT,
            "inspector": STR,
            "evidence_complete": BOOL,
        }
    )
)

# One row shape per change kind, as services/sync_pull.Serializer writes it.
CHANGE_ROWS: dict[str, dict] = {
    "areas": _closed(
        {
            "id": STR,
            "code": STR,
            "name": STR,
            "level": STR,
            "parent_code": _null(STR),
            "lat": _null(NUM),
            "lon": _null(NUM),
        }
    ),
    "points": _closed(
        {
            "id": STR,
            "code": STR,
            "name": STR,
            "kind": STR,
            "township_code": _null(STR),
            "lat": _null(NUM),
            "lon": _null(NUM),
            "coords_approx": BOOL,
            "manager_name": _null(STR),
            "manager_phone": _null(STR),
            "opening_hours": _null(OBJ),  # {"mon": [["09:00", "12:00"], ...]}
            "active": BOOL,
            "last_inspection": LAST_INSPECTION,
        }
    ),
    "templates": _closed(
        {"id": STR, "key": STR, "version": INT, "county_code": _null(STR), "content": OBJ}
    ),
    "cycles": _closed(
        {
            "id": INT,
            "name": STR,
            "year": INT,
            "start_date": DAY,
            "end_date": DAY,
            "assessment_date": _null(DAY),
            "county_code": _null(STR),
            "current": BOOL,
        }
    ),
    "assignments": _closed(
        {
            "id": INT,
            "cycle_id": INT,
            "point_code": STR,
            "inspector_id": INT,
            "start_date": DAY,
            "due_date": DAY,
            "note": _null(STR),
            "cancelled": BOOL,
        }
    ),
    "followups": _closed(
        {
            "id": INT,
            "point_code": STR,
            "cycle_id": _null(INT),
            "item_key": STR,
            "reason_code": STR,
            "opened_by": _null(STR),
            "opened_at": _null(WHEN),
            "due_date": _null({"type": "string"}),
            "status": STR,
            "responsible": _null(STR),
            "responsible_phone": _null(STR),
            "fixed_at": _null(WHEN),
            "closed_by": _null(STR),
            "closed_at": _null(WHEN),
            "note": _null(STR),
        }
    ),
    "inspections": ref("StoredInspection"),
}
assert set(CHANGE_ROWS) == set(CHANGE_KINDS), "sync/messages.py CHANGE_KINDS changed"


def _sync_response() -> dict:
    props = {
        "acks": {"type": "array", "items": ref("Ack")},
        "changes": _closed(
            {k: {"type": "array", "items": ref(f"Change_{k}")} for k in CHANGE_KINDS}
        ),
        "missing_blobs": {"type": "array", "items": SHA},
        "cursor": STR,
        "more": BOOL,
        "server_time": WHEN,
    }
    assert list(props) == [f.name for f in dataclasses.fields(SyncResponse)]
    return _closed(props)


def _sync_request(max_ops: int) -> dict:
    return _closed(
        {
            "protocol": {"const": PROTOCOL},
            "device_id": {"type": "string", "pattern": hlc.NODE_PATTERN},
            "cursor": _null(STR),
            "ops": {"type": "array", "maxItems": max_ops, "items": ref("Op")},
        },
        ["protocol", "device_id"],
    )


def schemas(max_ops: int) -> dict[str, Any]:
    """The sync wire types; `max_ops` is the server's setting (XUNJIAN_SYNC_PAGE_SIZE)."""
    out = {
        "Photo": _photo(),
        "Inspection": _inspection(),
        "StoredInspection": _stored_inspection(),
        "Op": _op(),
        "Ack": _ack(),
        "SyncRequest": _sync_request(max_ops),
        "SyncResponse": _sync_response(),
    }
    out.update({f"Change_{k}": row for k, row in CHANGE_ROWS.items()})
    return out
