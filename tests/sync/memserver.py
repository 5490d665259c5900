"""An in-memory server speaking the protocol, for client unit tests (no HTTP, no SQL).

It reuses sync.apply, so it is the reference semantics with the simplest possible storage.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import threading
from datetime import UTC, datetime

from sync import hlc
from sync.apply import Context, Current, StoredAck, apply_op
from sync.messages import SyncRequest, SyncResponse
from sync.transport import Response, TransportError


class MemRepo:
    def __init__(self) -> None:
        self.acks: dict[str, StoredAck] = {}
        self.records: dict[str, Current] = {}
        self.snaps: dict[tuple[str, int], dict] = {}
        self.seq: dict[str, int] = {}
        self.counter = 0
        self.conflicts: list[dict] = []
        self.quarantined: list[dict] = []

    def stored_ack(self, op_id):
        return self.acks.get(op_id)

    def record(self, record_id):
        return self.records.get(record_id)

    def snapshot(self, record_id, rev):
        return self.snaps.get((record_id, rev))

    def check(self, data, current, ctx):
        return None

    def save_record(self, op, result, rev, current, ctx):
        self.records[op.record_id] = Current(result.record, rev, result.clocks, ctx.user_id)
        self.snaps[(op.record_id, rev)] = result.record
        self.counter += 1
        self.seq[op.record_id] = self.counter

    def add_conflict(self, op, current, result, rev, ctx):
        self.conflicts.append(
            {
                "record_id": op.record_id,
                "server": current.data,
                "client": op.data,
                "fields": result.conflicts,
            }
        )
        return len(self.conflicts)

    def store_ack(self, ack, body_hash, ctx):
        self.acks[ack.op_id] = StoredAck(ack, body_hash, ctx.user_id)

    def quarantine(self, op_id, body_hash, raw, rej, ctx):
        self.quarantined.append({"op_id": op_id, "code": rej.code, "raw": raw})


class MemServer:
    """A Transport. ``fail_next`` queues faults: 'drop_request' | 'drop_response' | 'empty_body' |
    status."""

    def __init__(self, page: int = 1000) -> None:
        self.repo = MemRepo()
        self.blobs: dict[str, bytearray] = {}
        self.done: set[str] = set()
        self.tokens = {"good-token"}
        self.fail_next: list[object] = []
        self.page = page
        self.requests: list[tuple[str, str]] = []
        self.lock = threading.RLock()  # the client uploads photos from several threads

    def _json(self, status: int, body: dict, headers: dict | None = None) -> Response:
        return Response(status, headers or {}, json.dumps(body).encode())

    def request(self, method, path, headers, body):
        with self.lock:
            return self._request(method, path, headers, body)

    def _request(self, method, path, headers, body):
        self.requests.append((method, path))
        fault = self.fail_next.pop(0) if self.fail_next else None
        if fault == "drop_request":
            raise TransportError("cut before the server saw it")
        if isinstance(fault, int):
            return self._json(fault, {"error": {"code": "busy"}}, {"retry-after": "0"})
        resp = self._handle(method, path, {k.lower(): v for k, v in headers.items()}, body)
        if fault == "drop_response":
            raise TransportError("cut after the server applied it")
        if fault == "empty_body":  # applied, and the status line came through, the body not
            return Response(resp.status, {}, b"")
        return resp

    def _handle(self, method, path, headers, body):
        if path == "/api/auth/login":
            return self._json(
                200,
                {
                    "token": "good-token",
                    "expires_at": "",
                    "user": {},
                    "server_time": datetime.now(UTC).isoformat(),
                    "limits": {"max_blob_bytes": 1000},
                },
            )
        token = headers.get("authorization", "").removeprefix("Bearer ")
        if token not in self.tokens:
            return self._json(401, {"error": {"code": "token_revoked"}})
        if path == "/api/sync":
            if headers.get("content-encoding") == "gzip":
                body = gzip.decompress(body)
            return self._sync(json.loads(body))
        m = re.fullmatch(r"/api/blobs/([0-9a-f]{64})(/status)?", path)
        if m:
            return self._blob(method, m.group(1), headers, body)
        return self._json(404, {"error": {"code": "not_found"}})

    def _sync(self, raw):
        req = SyncRequest.from_json(raw)
        ctx = Context(1, req.device_id, hlc.Clock("server").now())
        acks = [apply_op(self.repo, op, ctx) for op in req.ops]
        cursor = int(req.cursor or 0)
        rows = sorted((s, rid) for rid, s in self.repo.seq.items() if s > cursor)
        page = rows[: self.page]
        changes = [
            {**self.repo.records[rid].data, "rev": self.repo.records[rid].rev} for _, rid in page
        ]
        wanted = {p["sha256"] for c in self.repo.records.values() for p in c.data["photos"]}
        out = SyncResponse(
            acks,
            {"inspections": changes},
            sorted(wanted - self.done),
            str(page[-1][0] if page else cursor),
            len(rows) > len(page),
            datetime.now(UTC).isoformat(),
        )
        return self._json(200, out.to_json())

    def _blob(self, method, sha, headers, body):
        held = self.blobs.setdefault(sha, bytearray())
        if method == "GET":
            return self._json(
                200,
                {
                    "sha256": sha,
                    "received": len(held),
                    "complete": sha in self.done,
                    "max_bytes": 1000,
                },
            )
        start, _, total = re.fullmatch(
            r"bytes (\d+)-(\d+)/(\d+)", headers["content-range"]
        ).groups()
        if int(total) > 1000:
            return self._json(413, {"error": {"code": "too_large", "max_bytes": 1000}})
        if int(start) != len(held):
            return self._json(409, {"error": {"code": "offset_mismatch", "received": len(held)}})
        held.extend(body)
        if len(held) == int(total):
            if hashlib.sha256(held).hexdigest() != sha:
                held.clear()
                return self._json(422, {"error": {"code": "hash_mismatch"}})
            self.done.add(sha)
        return self._json(200, {"received": len(held), "complete": sha in self.done})
