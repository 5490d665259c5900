"""/api/auth/*: device login, token rotation and logout; /api/devices: a lost phone's revoke."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.routing import Route

from server.clock import iso
from server.db import session_scope
from server.errors import AppError
from server.routes.api_common import (
    bad_request,
    caller_of,
    json_response,
    need_field,
    read_json,
    scope_of_caller,
)
from server.services import auth, device_admin, devices, rate_limits
from sync.hlc import valid_node
from sync.messages import PROTOCOL


def _limits(settings) -> dict:
    return {
        "max_blob_bytes": settings.max_blob_bytes,
        "max_ops": settings.sync_page_size,
        "page_size": settings.sync_page_size,
        "protocol": PROTOCOL,
    }


async def login(request: Request):
    body = await read_json(request)
    username = need_field(body, "username", str, 64)
    password = need_field(body, "password", str, 256)
    device_id = need_field(body, "device_id", str, 64)
    if not valid_node(device_id):
        raise bad_request("bad_field", "device_id", detail="may hold only A-Z a-z 0-9 . _ -")
    name = body.get("device_name") or ""
    if not isinstance(name, str):
        raise bad_request("bad_field", "device_name", detail="must be text")
    proof = body.get("device_proof") or ""
    if not isinstance(proof, str) or len(proof) > 256:
        raise bad_request("bad_field", "device_proof", detail="must be the token this phone held")
    settings = request.app.state.settings

    agent = devices.Agent(
        request.headers.get("user-agent", ""), request.headers.get("sec-ch-ua-model", "")
    )

    engine = request.app.state.engine
    address = request.client.host if request.client else ""

    limits = rate_limits.of_settings(settings)

    async def attempt() -> dict:
        began = datetime.now(UTC)
        verified = await auth.verified_hash(
            engine,
            username,
            password,
            lambda: rate_limits.check(engine, limits, username, address),
        )

        def issue() -> dict:
            with session_scope(engine, write=True) as session:
                issued = devices.login(
                    session,
                    username,
                    verified,
                    device_id,
                    name[:512],
                    settings.token_days,
                    agent,
                    proof,
                    began,
                )
                return {
                    "token": issued.token,
                    "expires_at": iso(issued.device.token_expires_at),
                    "user": devices.user_json(issued.user, issued.area),
                    "server_time": _now(),
                    "limits": _limits(settings),
                }

        return await run_in_threadpool(issue)

    answer = await rate_limits.guarded(
        engine,
        limits,
        username,
        address,
        attempt,
        lambda _, exc: isinstance(exc, AppError) and exc.code == "bad_credentials",
    )
    return json_response(request, answer)


def _now() -> str:
    return datetime.now(UTC).isoformat()


async def rotate(request: Request):
    caller = await caller_of(request)
    settings = request.app.state.settings

    def run() -> dict:
        with session_scope(request.app.state.engine, write=True) as session:
            token, device = devices.rotate(session, caller.device.id, settings.token_days)
            return {
                "token": token,
                "expires_at": iso(device.token_expires_at),
                "server_time": _now(),
            }

    return json_response(request, await run_in_threadpool(run))


async def logout(request: Request):
    caller = await caller_of(request)

    def run() -> None:
        with session_scope(request.app.state.engine, write=True) as session:
            devices.log_out(session, caller)

    await run_in_threadpool(run)
    return json_response(request, {"revoked": True})


def _device_json(row: device_admin.DeviceRow) -> dict:
    d = row.device
    return {
        "id": d.id,
        "name": d.name,
        "user": row.user.username,
        "created_at": iso(d.created_at),
        "last_seen_at": iso(d.last_seen_at),
        "expires_at": iso(d.token_expires_at),
        "revoked": d.revoked_at is not None,
    }


async def list_devices(request: Request):
    """Your own devices; a supervisor or admin also sees those of users in their area."""
    scope = await scope_of_caller(request)

    def run() -> dict:
        with session_scope(request.app.state.engine) as session:
            rows = device_admin.in_scope(session, scope)
            return {"devices": [_device_json(r) for r in rows]}

    return json_response(request, await run_in_threadpool(run))


async def revoke_device(request: Request):
    scope = await scope_of_caller(request)
    device_id = request.path_params["device_id"]

    def run() -> dict:
        with session_scope(request.app.state.engine, write=True) as session:
            row, _ = device_admin.revoke(session, scope, device_id, via="api")
            return _device_json(row)

    return json_response(request, await run_in_threadpool(run))


routes = [
    Route("/api/auth/login", login, methods=["POST"]),
    Route("/api/auth/rotate", rotate, methods=["POST"]),
    Route("/api/auth/logout", logout, methods=["POST"]),
    Route("/api/devices", list_devices, methods=["GET"]),
    Route("/api/devices/{device_id}/revoke", revoke_device, methods=["POST"]),
]
