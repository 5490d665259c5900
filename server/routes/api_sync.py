"""POST /api/sync: push the device's ops and pull what changed, in one round trip."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.errors import Forbidden
from server.routes.api_common import bad_request, caller_of, json_response, read_json
from server.services.sync_round import exchange
from sync.errors import MessageError
from sync.messages import SyncRequest


async def sync(request: Request) -> Response:
    caller = await caller_of(request)
    request.app.state.sync_limit.take(caller.device.id)
    raw = await read_json(request, own_text="ops")
    settings = request.app.state.settings
    try:
        req = SyncRequest.from_json(raw, max_ops=settings.sync_page_size)
    except MessageError as exc:
        protocol = raw.get("protocol") if isinstance(raw, dict) else None
        raise bad_request(
            exc.code,
            exc.field,
            detail=exc.detail,
            protocol=protocol,
            max_ops=settings.sync_page_size,
        ) from None
    if req.device_id != caller.device.id:
        raise Forbidden.protocol("device_mismatch", "device_id")
    reply = await run_in_threadpool(
        exchange, request.app.state.engine, caller, req, settings.sync_page_size
    )
    return json_response(request, reply.to_json())


routes = [Route("/api/sync", sync, methods=["POST"])]
