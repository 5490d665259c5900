"""Supervisor views of what sync could not settle alone: conflicts and the quarantine."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.routing import Route

from server.db import session_scope
from server.errors import Forbidden, NotFound
from server.models import Inspection, Quarantine, ServicePoint, SyncConflict, User
from server.routes.api_common import bad_request, caller_of, json_response, read_json
from server.services.conflicts import resolve_conflict
from server.services.devices import Caller
from server.services.scope import Scope, scope_of
from sync.merge import REGISTERS

MAX_LIMIT = 500


def _iso(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).isoformat()


def _supervisor(caller: Caller) -> None:
    if caller.user.role not in ("supervisor", "admin"):
        raise Forbidden("error.supervisors_only")


def _limit(request: Request) -> tuple[int, int]:
    try:
        limit = min(MAX_LIMIT, max(1, int(request.query_params.get("limit", 100))))
        offset = max(0, int(request.query_params.get("offset", 0)))
    except ValueError:
        raise bad_request("bad_field", "limit", detail="must be an integer") from None
    return limit, offset


def _conflict_json(c: SyncConflict, point_code: str, username: str) -> dict:
    return {
        "id": c.id,
        "inspection_id": c.inspection_id,
        "point_code": point_code,
        "op_id": c.op_id,
        "user": username,
        "device_id": c.device_id,
        "base_rev": c.base_rev,
        "server_rev": c.server_rev,
        "merged_rev": c.merged_rev,
        "fields": c.fields,
        "server_version": c.server_version,
        "client_version": c.client_version,
        "status": c.status,
        "created_at": _iso(c.created_at),
        "resolved_at": _iso(c.resolved_at),
        "resolution": c.resolution,
    }


def _conflicts_query(scope: Scope):
    points = select(ServicePoint.id).where(ServicePoint.township_id.in_(list(scope.subtree)))
    return (
        select(SyncConflict, ServicePoint.code, User.username)
        .join(Inspection, Inspection.id == SyncConflict.inspection_id)
        .join(ServicePoint, ServicePoint.id == Inspection.point_id)
        .join(User, User.id == SyncConflict.user_id)
        .where(Inspection.point_id.in_(points))
    )


async def list_conflicts(request: Request):
    caller = await caller_of(request)
    _supervisor(caller)
    limit, offset = _limit(request)
    status = request.query_params.get("status", "open")

    def run() -> dict:
        with session_scope(request.app.state.engine) as session:
            q = _conflicts_query(scope_of(session, caller.user))
            if status != "all":
                q = q.where(SyncConflict.status == status)
            rows = session.exec(q.order_by(SyncConflict.id).offset(offset).limit(limit)).all()
            return {"conflicts": [_conflict_json(*r) for r in rows]}

    return json_response(request, await run_in_threadpool(run))


def _one(session: Session, caller: Caller, cid: int) -> tuple:
    q = _conflicts_query(scope_of(session, caller.user)).where(SyncConflict.id == cid)
    row = session.exec(q).first()
    if row is None:
        raise NotFound("error.conflict_not_found")
    return row


def _cid(request: Request) -> int:
    try:
        return int(request.path_params["conflict_id"])
    except ValueError:
        raise NotFound("error.conflict_not_found") from None


async def get_conflict(request: Request):
    caller = await caller_of(request)
    _supervisor(caller)
    cid = _cid(request)

    def run() -> dict:
        with session_scope(request.app.state.engine) as session:
            return _conflict_json(*_one(session, caller, cid))

    return json_response(request, await run_in_threadpool(run))


async def resolve(request: Request):
    """Body: {"take": "server" | "client"} for every conflicting field, and/or
    {"choices": {"answers.x": value, ...}} for chosen values (null removes an answer)."""
    caller = await caller_of(request)
    _supervisor(caller)
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
        with session_scope(engine) as session:
            conflict, _, _ = _one(session, caller, cid)
        picked = {f["field"]: f[take] for f in conflict.fields} if take else {}
        picked.update(choices)
        assert caller.user.id is not None
        # "already resolved" (409) and the audit entry live in the service's transaction
        detail = {"take": take, "choices": sorted(choices)}
        resolve_conflict(engine, cid, picked, caller.user.id, detail)
        with session_scope(engine) as session:
            return _conflict_json(*_one(session, caller, cid))

    return json_response(request, await run_in_threadpool(run))


async def list_quarantine(request: Request):
    """Inspectors see their own quarantined ops; supervisors those of users in their area."""
    caller = await caller_of(request)
    limit, offset = _limit(request)

    def run() -> dict:
        with session_scope(request.app.state.engine) as session:
            q = select(Quarantine, User.username).join(User, User.id == Quarantine.user_id)
            if caller.user.role == "inspector":
                q = q.where(Quarantine.user_id == caller.user.id)
            else:
                q = q.where(User.area_id.in_(list(scope_of(session, caller.user).subtree)))
            if request.query_params.get("code"):
                q = q.where(Quarantine.code == request.query_params["code"])
            rows = session.exec(q.order_by(Quarantine.id).offset(offset).limit(limit)).all()
            return {
                "quarantine": [
                    {
                        "id": r.id,
                        "op_id": r.op_id,
                        "user": name,
                        "device_id": r.device_id,
                        "record_id": r.record_id,
                        "point_code": r.point_code,
                        "code": r.code,
                        "field": r.field,
                        "message_zh": r.message_zh,
                        "message_en": r.message_en,
                        "created_at": _iso(r.created_at),
                        "op": r.raw,
                    }
                    for r, name in rows
                ]
            }

    return json_response(request, await run_in_threadpool(run))


routes = [
    Route("/api/conflicts", list_conflicts, methods=["GET"]),
    Route("/api/conflicts/{conflict_id}", get_conflict, methods=["GET"]),
    Route("/api/conflicts/{conflict_id}/resolve", resolve, methods=["POST"]),
    Route("/api/quarantine", list_quarantine, methods=["GET"]),
]
