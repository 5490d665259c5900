"""POST /api/sync: push the device's ops and pull what changed, in one round trip."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.routing import Route

from server.db import session_scope
from server.errors import Forbidden
from server.models import Blob, Inspection
from server.routes.api_common import bad_request, caller_of, json_response, read_json
from server.services.scope import scope_of
from server.services.sync_checks import CHUNK
from server.services.sync_pull import make_cursor, parse_cursor, pull
from server.services.sync_store import apply_batch
from sync.errors import MessageError
from sync.messages import SyncRequest, SyncResponse

MAX_MISSING = 500
MISSING_PAGE = 100  # records read at a time


def missing_blobs(session: Session, user_id: int) -> list[str]:
    """Photos this user's records name that the server does not hold complete yet: those of
    the oldest records first (by creation), at most MAX_MISSING, listed in hash order. Every
    record still waiting for evidence names at least one missing photo, so reading records a
    page at a time and stopping at MAX_MISSING bounds the work even for a device with a long
    backlog."""
    missing: list[str] = []  # in the order of the records naming them
    seen: set[str] = set()
    offset = 0
    while len(missing) < MAX_MISSING:
        rows = session.exec(
            select(Inspection.photos)
            .where(Inspection.inspector_id == user_id, Inspection.evidence_complete.is_(False))
            .order_by(Inspection.created_at, Inspection.id)
            .offset(offset)
            .limit(MISSING_PAGE)
        ).all()
        offset += len(rows)
        named = list(dict.fromkeys(p["sha256"] for photos in rows for p in (photos or [])))
        named = [s for s in named if s not in seen]
        seen.update(named)
        # In slices: a bound on SQL variables per query, and PostgreSQL's driver prepares a
        # short query much faster than one with thousands of parameters.
        shas = sorted(named)
        done: set[str] = set()
        for start in range(0, len(shas), CHUNK):
            part = shas[start : start + CHUNK]
            done.update(
                session.exec(
                    select(Blob.sha256).where(Blob.sha256.in_(part), Blob.complete.is_(True))
                )
            )
        missing.extend(s for s in named if s not in done)
        if len(rows) < MISSING_PAGE:
            break
    # cut by age (a page's last records may overshoot the limit), then list by hash
    return sorted(missing[:MAX_MISSING])


async def sync(request: Request):
    caller = await caller_of(request)
    raw = await read_json(request)
    settings = request.app.state.settings
    engine = request.app.state.engine
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

    def run() -> dict:
        with session_scope(engine) as session:
            scope = scope_of(session, caller.user)
        applied = apply_batch(engine, caller, scope, req.ops)
        acks = [ack for ack, _ in applied]
        echo_free = {(ack.record_id, ack.rev) for ack, same in applied if same}
        with session_scope(engine) as session:
            cursor = parse_cursor(req.cursor, scope)
            changes, nxt, more = pull(session, scope, cursor, settings.sync_page_size, echo_free)
            assert caller.user.id is not None
            missing = missing_blobs(session, caller.user.id)
        return SyncResponse(
            acks=acks,
            changes=changes,
            missing_blobs=missing,
            cursor=make_cursor(nxt, scope),
            more=more,
            server_time=datetime.now(UTC).isoformat(),
        ).to_json()

    return json_response(request, await run_in_threadpool(run))


routes = [Route("/api/sync", sync, methods=["POST"])]
