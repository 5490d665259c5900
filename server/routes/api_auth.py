"""/api/auth/*: device login, token rotation and logout; /api/devices: a lost phone's revoke."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.routing import Route

from server.db import session_scope
from server.models import Area, Device
from server.routes.api_common import bad_request, caller_of, json_response, need_field, read_json
from server.services import device_admin, devices
from server.services.scope import scope_of
from sync.hlc import valid_node
from sync.messages import PROTOCOL


def _limits(settings) -> dict:
    return {
        "max_blob_bytes": settings.max_blob_bytes,
        "max_ops": settings.sync_page_size,
        "page_size": settings.sync_page_size,
        "protocol": PROTOCOL,
    }


def _iso(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).isoformat()


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
    settings = request.app.state.settings

    def run() -> dict:
        with session_scope(request.app.state.engine, write=True) as session:
            token, device, user = devices.login(
                session, username, password, device_id, name[:128], settings.token_days
            )
            area = session.get(Area, user.area_id)
            return {
                "token": token,
                "expires_at": _iso(device.token_expires_at),
                "user": devices.user_json(user, area),
                "server_time": _now(),
                "limits": _limits(settings),
            }

    return json_response(request, await run_in_threadpool(run))


def _now() -> str:
    return datetime.now(UTC).isoformat()


async def rotate(request: Request):
    caller = await caller_of(request)
    settings = request.app.state.settings

    def run() -> dict:
        with session_scope(request.app.state.engine, write=True) as session:
            device = session.get(Device, caller.device.id)
            token = devices.rotate(session, device, settings.token_days)
            return {
                "token": token,
                "expires_at": _iso(device.token_expires_at),
                "server_time": _now(),
            }

    return json_response(request, await run_in_threadpool(run))


async def logout(request: Request):
    caller = await caller_of(request)

    def run() -> None:
        with session_scope(request.app.state.engine, write=True) as session:
            devices.revoke(session, session.get(Device, caller.device.id), caller.user.id)

    await run_in_threadpool(run)
    return json_response(request, {"revoked": True})


def _device_json(row: device_admin.DeviceRow) -> dict:
    d = row.device
    return {
        "id": d.id,
        "name": d.name,
        "user": row.user.username,
        "created_at": _iso(d.created_at),
        "last_seen_at": _iso(d.last_seen_at),
        "expires_at": _iso(d.token_expires_at),
        "revoked": d.revoked_at is not None,
    }


async def list_devices(request: Request):
    """Your own devices; a supervisor or admin also sees those of users in their area."""
    caller = await caller_of(request)

    def run() -> dict:
        with session_scope(request.app.state.engine) as session:
            rows = device_admin.in_scope(session, scope_of(session, caller.user))
            return {"devices": [_device_json(r) for r in rows]}

    return json_response(request, await run_in_threadpool(run))


async def revoke_device(request: Request):
    caller = await caller_of(request)
    device_id = request.path_params["device_id"]

    def run() -> dict:
        with session_scope(request.app.state.engine, write=True) as session:
            scope = scope_of(session, caller.user)
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
