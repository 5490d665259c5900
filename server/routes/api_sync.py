"""POST /api/sync: push the device's ops and pull what changed, in one round trip."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.errors import Forbidden
from server.routes.api_common import (
    bad_request,
    caller_of,
    decode_json_checked,
    json_response,
    read_body,
)
from server.services.sync_round import exchange
from sync.errors import MessageError
from sync.messages import SyncRequest


async def sync(request: Request) -> Response:
    caller = await caller_of(request)
    request.app.state.sync_limit.take(caller.device.id)
    body = await read_body(request)
    encoding = request.headers.get("content-encoding", "").strip().lower()
    settings = request.app.state.settings
    # parsing a batch is CPU work (a quarter of a second for 500 ops): off the event loop
    req = await run_in_threadpool(_parse, body, encoding, settings.sync_page_size)
    if req.device_id != caller.device.id:
        raise Forbidden.protocol("device_mismatch", "device_id")
    engine = request.app.state.engine

    def run() -> Response:
        reply = exchange(engine, caller, req, settings.sync_page_size)
        return json_response(request, reply.to_json())  # a page of changes: encode off the loop

    return await run_in_threadpool(run)


def _parse(body: bytes, encoding: str, max_ops: int) -> SyncRequest:
    raw, clean, plain = decode_json_checked(body, encoding, own_text="ops")
    try:
        return SyncRequest.from_json(raw, max_ops=max_ops, text_checked=clean, plain=plain)
    except MessageError as exc:
        protocol = raw.get("protocol") if isinstance(raw, dict) else None
        raise bad_request(
            exc.code, exc.field, detail=exc.detail, protocol=protocol, max_ops=max_ops
        ) from None


routes = [Route("/api/sync", sync, methods=["POST"])]
