"""Supervisor views of what sync could not settle alone: conflicts and the quarantine.

The same services as the review pages (`conflict_review`, `quarantine`): one scope rule,
one way to resolve."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.clock import iso
from server.db import db_int, session_scope
from server.errors import NotFound
from server.routes.api_common import (
    bad_request,
    json_response,
    paging,
    read_json,
    scope_of_caller,
)
from server.services import conflict_review, quarantine
from sync.merge import REGISTERS


def _conflict_json(row: conflict_review.ConflictRow) -> dict:
    c = row.conflict
    return {
        "id": c.id,
        "inspection_id": c.inspection_id,
        "point_code": row.point.code,
        "op_id": c.op_id,
        "user": row.user.username,
        "device_id": c.device_id,
        "base_rev": c.base_rev,
        "server_rev": c.server_rev,
        "merged_rev": c.merged_rev,
        "fields": c.fields,
        "server_version": c.server_version,
        "client_version": c.client_version,
        "status": c.status,
        "created_at": iso(c.created_at),
        "resolved_at": iso(c.resolved_at),
        "resolution": c.resolution,
    }


async def list_conflicts(request: Request) -> Response:
    scope = await scope_of_caller(request)
    limit, offset = paging(request)
    status = request.query_params.get("status", "open")
    if status not in conflict_review.STATUSES:
        raise bad_request("bad_field", "status", detail="must be open, resolved or all")

    def run() -> dict:
        with session_scope(request.app.state.engine) as session:
            rows = conflict_review.listed(session, scope, status, offset=offset, limit=limit)
            return {"conflicts": [_conflict_json(r) for r in rows]}

    return json_response(request, await run_in_threadpool(run))


def _cid(request: Request) -> int:
    cid = db_int(request.path_params["conflict_id"])
    if cid is None or cid < 1:
        raise NotFound("error.conflict_not_found")
    return cid


async def get_conflict(request: Request) -> Response:
    scope = await scope_of_caller(request)
    cid = _cid(request)

    def run() -> dict:
        with session_scope(request.app.state.engine) as session:
            return _conflict_json(conflict_review.one(session, scope, cid))

    return json_response(request, await run_in_threadpool(run))


async def resolve(request: Request) -> Response:
    """Body: {"take": "server" | "client"} for every conflicting field, and/or
    {"choices": {"answers.x": value, ...}} for chosen values (null removes an answer)."""
    scope = await scope_of_caller(request)
    cid = _cid(request)
    body = await read_json(request)
    if not isinstance(body, dict):
        raise bad_request("bad_field", "body", detail="must be a JSON object")
    take = body.get("take")
    choices = body.get("choices") or {}
    if take not in (None, "server", "client"):
        raise bad_request("bad_field", "take", detail="must be server or client")
    if not isinstance(choices, dict) or not all(
        isinstance(k, str) and (k in REGISTERS or k.startswith("answers.")) for k in choices
    ):
        raise bad_request("bad_field", "choices", detail="keys must be answers.<item> or notes")
    if take is None and not choices:
        raise bad_request("bad_field", "take", detail="give take or choices")
    engine = request.app.state.engine

    def run() -> dict:
        conflict_review.resolve(engine, scope, cid, take=take, choices=choices)
        with session_scope(engine) as session:
            return _conflict_json(conflict_review.one(session, scope, cid))

    return json_response(request, await run_in_threadpool(run))


def _quarantine_json(row: quarantine.QuarantineRow) -> dict:
    r = row.q
    return {
        "id": r.id,
        "op_id": r.op_id,
        "user": row.user.username,
        "device_id": r.device_id,
        "record_id": r.record_id,
        "point_code": r.point_code,
        "code": r.code,
        "field": r.field,
        "message_zh": r.message_zh,
        "message_en": r.message_en,
        "created_at": iso(r.created_at),
        "op": r.raw,
    }


async def list_quarantine(request: Request) -> Response:
    """Inspectors see their own quarantined ops; supervisors those of users in their area."""
    scope = await scope_of_caller(request)
    limit, offset = paging(request)
    code = request.query_params.get("code") or None

    def run() -> dict:
        with session_scope(request.app.state.engine) as session:
            rows = quarantine.listed(session, scope, code=code, offset=offset, limit=limit)
            return {"quarantine": [_quarantine_json(r) for r in rows]}

    return json_response(request, await run_in_threadpool(run))


routes = [
    Route("/api/conflicts", list_conflicts, methods=["GET"]),
    Route("/api/conflicts/{conflict_id}", get_conflict, methods=["GET"]),
    Route("/api/conflicts/{conflict_id}/resolve", resolve, methods=["POST"]),
    Route("/api/quarantine", list_quarantine, methods=["GET"]),
]
