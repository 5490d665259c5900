"""Helpers shared by the JSON API endpoints: gzip in and out, bounded bodies, the caller."""

from __future__ import annotations

import gzip
import zlib
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from server import json_codec
from server.db import MAX_DB_INT, db_int, session_scope
from server.errors import AppError, BadRequest, PayloadTooLarge
from server.services.devices import Caller, authenticate, seen_is_stale, stamp_seen
from server.services.scope import Scope, scope_of
from sync.text import DETAIL, first_unstorable, maybe_unstorable

MAX_JSON_BYTES = 16 * 1024 * 1024  # after decompression: a 500-op batch is ~1-2 MB
GZIP_MIN = 1024
MAX_DEPTH = 32  # a sync batch is 8 deep (ops[].data.answers.opening_hours.mon[0][0])


def bad_request(code: str, field: str | None = None, **params: Any) -> AppError:
    """A 400 in the protocol's own words (`sync/errors.py`)."""
    return BadRequest.protocol(code, field, **params)


def body_too_large() -> AppError:
    return PayloadTooLarge.protocol(
        "body_too_large", max_mb=MAX_JSON_BYTES // 1_048_576, extra={"max_bytes": MAX_JSON_BYTES}
    )


def _gunzip(raw: bytes) -> bytes:
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = d.decompress(raw, MAX_JSON_BYTES + 1)
    except zlib.error:
        raise bad_request("bad_gzip") from None
    if len(out) > MAX_JSON_BYTES or d.unconsumed_tail:
        raise body_too_large()
    if not d.eof:
        raise bad_request("bad_gzip")
    return out


async def read_json(request: Request, own_text: str | None = None) -> Any:
    """The JSON body, gunzipped when sent with Content-Encoding: gzip (size-bounded), at
    most MAX_DEPTH deep, every string storable (except under the top-level key
    `own_text`, e.g. a sync batch's `ops`, whose items are refused one by one).

    Only the receiving runs on the event loop: gunzip, parse and the walk over the tree take
    a quarter of a second of CPU for a 500-op batch, which would stall every other phone."""
    body = await read_body(request)
    encoding = request.headers.get("content-encoding", "").strip().lower()
    return await run_in_threadpool(decode_json, body, encoding, own_text)


async def read_body(request: Request) -> bytes:
    """The raw body, refused past MAX_JSON_BYTES while it arrives."""
    raw = bytearray()
    async for chunk in request.stream():
        raw.extend(chunk)
        if len(raw) > MAX_JSON_BYTES:
            raise body_too_large()
    return bytes(raw)


def decode_json(body: bytes, encoding: str, own_text: str | None = None) -> Any:
    """read_json's CPU part, for a worker thread."""
    return decode_json_checked(body, encoding, own_text)[0]


def decode_json_checked(
    body: bytes, encoding: str, own_text: str | None = None
) -> tuple[Any, bool, bool]:
    """decode_json, whether every string in the body, `own_text` included, is known to be
    storable (so its parser need not look again, op by op), and whether orjson read it
    (json_codec.loads_plain)."""
    if encoding == "gzip":
        body = _gunzip(body)
    elif encoding not in ("", "identity"):
        raise bad_request("bad_field", "Content-Encoding", detail="only gzip is accepted")
    try:
        value, plain = json_codec.loads_plain(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise bad_request("bad_json") from None
    if _too_deep(value):
        raise bad_request("bad_json")
    clean = not maybe_unstorable(body)
    if not clean:
        # the slow, exact walk: the path of the first bad string names the field
        outside = value
        if own_text is not None and isinstance(value, dict):
            outside = {k: x for k, x in value.items() if k != own_text}
        where = first_unstorable(outside)
        if where is not None:
            raise bad_request("bad_field", where, detail=DETAIL)
    return value, clean, plain


def _too_deep(value: Any) -> bool:
    """Nesting deeper than any message needs (code below may recurse over it). Level by
    level, containers only: a 500-op batch is ~8 levels of a few comprehensions, where a
    walk that visits every value cost a tenth of a millisecond per op."""
    level = [value] if isinstance(value, dict | list) else []
    depth = 0
    while level:
        depth += 1
        if depth > MAX_DEPTH:
            return True
        level = [
            x
            for v in level
            for x in (v.values() if type(v) is dict else v)
            if type(x) is dict or type(x) is list
        ]
    return False


def json_bytes(body: Any) -> bytes:
    """UTF-8 JSON; text that cannot be UTF-8 (a lone surrogate echoed back) goes escaped."""
    return json_codec.dumps_bytes(body)


def json_response(request: Request, body: Any, status: int = 200) -> Response:
    """JSON, gzipped when the client accepts it and it is worth it."""
    data = json_bytes(body)
    headers = {"Vary": "Accept-Encoding", "Cache-Control": "no-store"}
    if len(data) >= GZIP_MIN and "gzip" in request.headers.get("accept-encoding", "").lower():
        data = gzip.compress(data, compresslevel=6, mtime=0)
        headers["Content-Encoding"] = "gzip"
    return Response(data, status, headers=headers, media_type="application/json")


async def caller_of(request: Request) -> Caller:
    """The device and user behind the request's bearer token (401 with a code otherwise)."""
    engine = request.app.state.engine

    def run() -> Caller:
        with session_scope(engine) as session:
            caller = authenticate(session, request.headers.get("authorization"))
        _note_seen(engine, caller)
        return caller

    return await run_in_threadpool(run)


def _note_seen(engine, caller: Caller) -> None:
    """last_seen_at, at most every few minutes, in a write transaction of its own."""
    if seen_is_stale(caller):
        with session_scope(engine, write=True) as session:
            stamp_seen(session, caller.device.id)


async def scope_of_caller(request: Request) -> Scope:
    """What the caller may see and change (`services/scope.py`), in one trip to the pool."""
    engine = request.app.state.engine

    def run() -> Scope:
        with session_scope(engine) as session:
            caller = authenticate(session, request.headers.get("authorization"))
            scope = scope_of(session, caller.user)
        _note_seen(engine, caller)
        return scope

    return await run_in_threadpool(run)


def paging(request: Request, default: int = 100, most: int = 500) -> tuple[int, int]:
    """`?limit=&offset=` of a list endpoint: (limit within 1..most, offset >= 0)."""
    limit = query_int(request, "limit", default)
    offset = query_int(request, "offset", 0)
    return min(most, max(1, limit)), max(0, offset)


def query_int(request: Request, key: str, default: int) -> int:
    """An integer query parameter that fits a database integer, else 400 naming it."""
    raw = request.query_params.get(key)
    value = db_int(raw) if raw is not None else default
    if value is None:
        raise bad_request("bad_field", key, detail=f"must be an integer of at most {MAX_DB_INT}")
    return value


def need_field(body: Any, key: str, kind: type, max_len: int = 128) -> Any:
    if not isinstance(body, dict):
        raise bad_request("bad_field", "body", detail="must be a JSON object")
    value = body.get(key)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise bad_request("bad_field", key, detail=f"is required ({kind.__name__})")
    if isinstance(value, str) and not 0 < len(value) <= max_len:
        raise bad_request("bad_field", key, detail=f"must be 1-{max_len} characters")
    return value
