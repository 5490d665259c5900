"""Wire messages of the sync protocol as dataclasses, parsed strictly from JSON.

Parsing is split in two on purpose. The request envelope (protocol, device id, cursor, the op
list itself, each op's ``op_id``) must be right or the whole request is refused with HTTP 400
naming the field. Anything wrong *inside* an op with a usable ``op_id`` becomes that op's
``rejected`` ack instead, so one bad record can never block a device's queue for ever.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import orjson

from sync import hlc as hlc_mod
from sync.errors import MessageError, Rejection
from sync.records import MAX_INT, validate_inspection
from sync.text import DETAIL, first_unstorable, unstorable

PROTOCOL = 1
OP_TYPES = ("inspection.put",)
ACK_STATUSES = ("applied", "conflict", "rejected")
CHANGE_KINDS = (
    "areas",
    "points",
    "templates",
    "cycles",
    "assignments",
    "followups",
    "inspections",
)
MAX_ID_LEN = 64
OP_FIELDS = ("op_id", "type", "record_id", "base_rev", "hlc", "data", "base_op_id", "author")


def canonical_json(obj: Any) -> str:
    """Key-sorted, compact JSON: equal values give equal text (and so equal hashes)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# orjson writes every value as canonical_json does but some floats below 1e-4: `0.00001` and
# `1e-7` for `1e-05` and `1e-07` (tests/sync/test_body_hash.py sweeps every magnitude)
_NUMBER_CHARS = frozenset(b"0123456789.")
_BEFORE_NUMBER = frozenset(b":,[-")  # compact JSON: a number follows `:`, `,`, `[` or its sign


def _respelt(text: bytes) -> bool:
    """Whether orjson's `text` may hold a float spelt otherwise by the standard library:
    one with an exponent, or `.0000`. Text inside strings may look alike; that costs only
    the slow path. (memchr-fast: a regex over every byte took twice orjson's own time)"""
    if b".0000" in text:
        return True
    for mark in (b"e-", b"e+"):
        i = text.find(mark)
        while i > 0:
            j = i
            while j > 0 and text[j - 1] in _NUMBER_CHARS:
                j -= 1
            if j < i and j > 0 and text[j - 1] in _BEFORE_NUMBER:
                return True
            i = text.find(mark, i + 2)
    return False


def body_hash(obj: Any, plain: bool = False) -> str:
    """SHA-256 of canonical_json(obj). `plain`: obj is as orjson read it (finite numbers
    within 64 bits, valid text), so orjson, 5-10x faster, writes the same bytes wherever
    no float is respelt (tests/sync/test_body_hash.py proves it over generated values)."""
    if plain:
        try:
            text = orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)
        except TypeError:  # orjson.JSONEncodeError: e.g. an integer past 64 bits
            pass
        else:
            if not _respelt(text):
                return hashlib.sha256(text).hexdigest()
    # surrogatepass: an op holding a lone surrogate is refused, but its ack is still stored
    # under its hash, so a replay gets the same answer (valid text hashes as before)
    return hashlib.sha256(canonical_json(obj).encode("utf-8", "surrogatepass")).hexdigest()


def _need(obj: dict, key: str, kind: type | tuple[type, ...], path: str) -> Any:
    if key not in obj:
        raise MessageError(f"{path}{key}", "is required")
    value = obj[key]
    # bool is an int in Python; the protocol never wants a bool where it asks for a number
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise MessageError(f"{path}{key}", "must not be true/false")
    if not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise MessageError(f"{path}{key}", f"must be {names}")
    return value


def _id(obj: dict, key: str, path: str, optional: bool = False) -> str | None:
    if optional and obj.get(key) is None:
        return None
    value = _need(obj, key, str, path)
    if not value or len(value) > MAX_ID_LEN:
        raise MessageError(f"{path}{key}", f"must be 1-{MAX_ID_LEN} characters")
    if unstorable(value):
        raise MessageError(f"{path}{key}", DETAIL)
    return value


@dataclass(frozen=True)
class Op:
    """One pending change from a device. ``base_op_id``: see sync-protocol.md, "Chained edits".
    ``author``: the id of the user who made the record; a phone shared by several inspectors
    says whose it is, so the server can refuse it under anyone else's token."""

    op_id: str
    type: str
    record_id: str
    base_rev: int
    hlc: str
    data: dict
    base_op_id: str | None = None
    author: int | None = None
    # read by orjson (finite numbers within 64 bits, valid text): body_hash may use it
    plain: bool = field(default=False, compare=False, repr=False)

    def to_json(self) -> dict:
        out: dict[str, Any] = {
            "op_id": self.op_id,
            "type": self.type,
            "record_id": self.record_id,
            "base_rev": self.base_rev,
            "hlc": self.hlc,
            "data": self.data,
        }
        if self.base_op_id is not None:
            out["base_op_id"] = self.base_op_id
        if self.author is not None:
            out["author"] = self.author
        return out

    def body_hash(self) -> str:
        return body_hash(self.to_json(), self.plain)

    @classmethod
    def from_json(
        cls, obj: Any, path: str = "", text_checked: bool = False, plain: bool = False
    ) -> Op:
        """Strict parse; raises MessageError whose field is prefixed by ``path``.
        `text_checked`: the caller knows every string in `obj` is storable. `plain`: orjson
        read `obj` (Op.plain)."""
        if not isinstance(obj, dict):
            raise MessageError(path.rstrip(".") or "op", "must be an object")
        op_id = _id(obj, "op_id", path)
        bad_text = None if text_checked else first_unstorable(obj)
        if bad_text is not None:
            raise MessageError(f"{path}{bad_text}", DETAIL)
        op_type = _need(obj, "type", str, path)
        if op_type not in OP_TYPES:
            raise MessageError(f"{path}type", f"unknown type {op_type!r}", code="unknown_op_type")
        record_id = _id(obj, "record_id", path)
        base_rev = _need(obj, "base_rev", int, path)
        if not 0 <= base_rev <= MAX_INT:
            raise MessageError(f"{path}base_rev", f"must be an integer in [0, {MAX_INT}]")
        clock = _need(obj, "hlc", str, path)
        try:
            hlc_mod.parse(clock)
        except hlc_mod.HLCError as exc:
            raise MessageError(f"{path}hlc", str(exc)) from None
        data = _need(obj, "data", dict, path)
        validate_inspection(data, f"{path}data.")
        if data["id"] != record_id:
            raise MessageError(f"{path}data.id", "must equal record_id")
        base_op_id = _id(obj, "base_op_id", path, optional=True)
        author = obj.get("author")
        if author is not None and not 1 <= _need(obj, "author", int, path) <= MAX_INT:
            raise MessageError(f"{path}author", "must be a user id (an integer >= 1)")
        extra = set(obj) - {*OP_FIELDS}
        if extra:
            raise MessageError(f"{path}{sorted(extra)[0]}", "is not a field of an op")
        assert op_id is not None and record_id is not None
        return cls(op_id, op_type, record_id, base_rev, clock, data, base_op_id, author, plain)


@dataclass(frozen=True)
class BadOp:
    """An op whose ``op_id`` is usable but whose body is not: it gets a `rejected` ack."""

    op_id: str
    raw: dict
    rejection: Rejection

    def body_hash(self) -> str:
        return body_hash(self.raw)

    @property
    def record_id(self) -> str:
        rid = self.raw.get("record_id")
        return rid if isinstance(rid, str) and len(rid) <= MAX_ID_LEN else ""


def parse_op(obj: Any, index: int, text_checked: bool = False, plain: bool = False) -> Op | BadOp:
    """Parse ``ops[index]``; envelope faults raise, body faults give a BadOp."""
    path = f"ops[{index}]."
    if not isinstance(obj, dict):
        raise MessageError(f"ops[{index}]", "must be an object")
    op_id = _id(obj, "op_id", path)
    assert op_id is not None
    try:
        return Op.from_json(obj, path, text_checked, plain)
    except MessageError as exc:
        short = exc.field.removeprefix(path)
        if exc.code == "unknown_op_type":
            rej = Rejection.of("unknown_op_type", short, type=obj.get("type"))
        else:
            rej = Rejection.of("invalid_op", short, detail=exc.detail)
        return BadOp(op_id, obj, rej)


@dataclass(frozen=True)
class SyncRequest:
    device_id: str
    cursor: str | None
    ops: list[Op | BadOp] = field(default_factory=list)
    protocol: int = PROTOCOL

    @classmethod
    def from_json(
        cls, obj: Any, max_ops: int = 500, text_checked: bool = False, plain: bool = False
    ) -> SyncRequest:
        """`text_checked`: the caller knows every string in `obj` is storable (the server
        looks at the raw body once, far faster than at each op's tree). `plain`: orjson
        read `obj` (Op.plain)."""
        if not isinstance(obj, dict):
            raise MessageError("body", "must be a JSON object")
        protocol = _need(obj, "protocol", int, "")
        if protocol != PROTOCOL:
            raise MessageError("protocol", f"unsupported {protocol}", code="protocol_unsupported")
        device_id = _id(obj, "device_id", "")
        assert device_id is not None
        if not hlc_mod.valid_node(device_id):
            raise MessageError("device_id", "may hold only A-Z a-z 0-9 . _ -")
        cursor = obj.get("cursor")
        if cursor is not None and (not isinstance(cursor, str) or len(cursor) > 512):
            raise MessageError("cursor", "must be null or the string the server returned")
        raw_ops = obj.get("ops", [])
        if not isinstance(raw_ops, list):
            raise MessageError("ops", "must be a list")
        if len(raw_ops) > max_ops:
            raise MessageError("ops", f"at most {max_ops} per request", code="too_many_ops")
        ops = [parse_op(o, i, text_checked, plain) for i, o in enumerate(raw_ops)]
        seen: set[str] = set()
        for i, op in enumerate(ops):
            if op.op_id in seen:
                raise MessageError(f"ops[{i}].op_id", "appears twice in one request")
            seen.add(op.op_id)
        return cls(device_id, cursor, ops, protocol)

    def to_json(self) -> dict:
        ops = [o.to_json() if isinstance(o, Op) else o.raw for o in self.ops]
        return {
            "protocol": self.protocol,
            "device_id": self.device_id,
            "cursor": self.cursor,
            "ops": ops,
        }


@dataclass(frozen=True)
class Ack:
    """The server's answer to one op. Stored; a replay of the op returns it unchanged."""

    op_id: str
    status: str
    record_id: str
    rev: int
    code: str | None = None
    message_zh: str | None = None
    message_en: str | None = None
    field: str | None = None
    conflict_id: int | None = None

    def to_json(self) -> dict:
        out: dict[str, Any] = {
            "op_id": self.op_id,
            "status": self.status,
            "record_id": self.record_id,
            "rev": self.rev,
        }
        for key in ("code", "message_zh", "message_en", "field", "conflict_id"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out

    @classmethod
    def from_json(cls, obj: Any, path: str = "ack.") -> Ack:
        if not isinstance(obj, dict):
            raise MessageError(path.rstrip("."), "must be an object")
        status = _need(obj, "status", str, path)
        if status not in ACK_STATUSES:
            raise MessageError(f"{path}status", f"unknown status {status!r}")
        cid = obj.get("conflict_id")
        if cid is not None and (isinstance(cid, bool) or not isinstance(cid, int)):
            raise MessageError(f"{path}conflict_id", "must be an integer")
        opt = {k: obj.get(k) for k in ("code", "message_zh", "message_en", "field")}
        for k, v in opt.items():
            if v is not None and not isinstance(v, str):
                raise MessageError(f"{path}{k}", "must be a string")
        return cls(
            op_id=_need(obj, "op_id", str, path),
            status=status,
            record_id=_need(obj, "record_id", str, path),
            rev=_need(obj, "rev", int, path),
            conflict_id=cid,
            **opt,
        )


def ack_for_rejection(op_id: str, record_id: str, rev: int, rej: Rejection) -> Ack:
    zh, en = rej.messages()
    return Ack(op_id, "rejected", record_id, rev, rej.code, zh, en, rej.field)


@dataclass(frozen=True)
class SyncResponse:
    acks: list[Ack]
    changes: dict[str, list[dict]]
    missing_blobs: list[str]
    cursor: str
    more: bool
    server_time: str

    def to_json(self) -> dict:
        return {
            "acks": [a.to_json() for a in self.acks],
            "changes": {k: self.changes.get(k, []) for k in CHANGE_KINDS},
            "missing_blobs": self.missing_blobs,
            "cursor": self.cursor,
            "more": self.more,
            "server_time": self.server_time,
        }

    @classmethod
    def from_json(cls, obj: Any) -> SyncResponse:
        if not isinstance(obj, dict):
            raise MessageError("body", "must be a JSON object")
        raw_acks = _need(obj, "acks", list, "")
        acks = [Ack.from_json(a, f"acks[{i}].") for i, a in enumerate(raw_acks)]
        raw_changes = _need(obj, "changes", dict, "")
        changes: dict[str, list[dict]] = {}
        for kind, rows in raw_changes.items():
            if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
                raise MessageError(f"changes.{kind}", "must be a list of objects")
            changes[kind] = rows
        missing = _need(obj, "missing_blobs", list, "")
        if not all(isinstance(s, str) for s in missing):
            raise MessageError("missing_blobs", "must be a list of strings")
        return cls(
            acks=acks,
            changes=changes,
            missing_blobs=missing,
            cursor=_need(obj, "cursor", str, ""),
            more=_need(obj, "more", bool, ""),
            server_time=_need(obj, "server_time", str, ""),
        )
