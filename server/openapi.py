"""The OpenAPI 3.1 description of every /api route, in this one place.

The routes and the small auth, blob and review bodies are written here; the sync wire types
(records, ops, acks, change rows) come from server/wire_schema.py, which builds them from
the constants sync/ validates with. tests/api/test_openapi.py fails when a route under /api
is not described here, and validates real responses against these schemas.
"""

from __future__ import annotations

from typing import Any

from server.wire_schema import OBJ, SHA, ref, schemas
from sync.hlc import NODE_PATTERN
from sync.messages import PROTOCOL


def _json(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERR = {"description": "Error", "content": {"application/json": {"schema": ref("Error")}}}
AUTH: list[dict[str, list[str]]] = [{"bearer": []}]


def _op(
    summary: str,
    ok: dict,
    *,
    body: dict | None = None,
    auth: bool = True,
    errors: tuple[int, ...] = (400, 401),
    params: list | None = None,
) -> dict:
    out: dict[str, Any] = {"summary": summary, "responses": {"200": ok}}
    for status in errors:
        out["responses"][str(status)] = ERR
    if body is not None:
        out["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if auth:
        out["security"] = AUTH
    if params:
        out["parameters"] = params
    return out


def _path_param(name: str, schema: dict) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _query(name: str, schema: dict) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema}


SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message_zh", "message_en"],
                "properties": {
                    "code": {"type": "string"},
                    "message_zh": {"type": "string"},
                    "message_en": {"type": "string"},
                    "field": {"type": "string"},
                    "received": {"type": "integer"},
                    "max_bytes": {"type": "integer"},
                },
            }
        },
    },
    "Login": {
        "type": "object",
        "required": ["username", "password", "device_id"],
        "properties": {
            "username": {"type": "string"},
            "password": {"type": "string"},
            "device_id": {"type": "string", "pattern": NODE_PATTERN},
            "device_name": {"type": "string"},
        },
    },
    "Token": {
        "type": "object",
        "required": ["token", "expires_at", "server_time"],
        "properties": {
            "token": {"type": "string"},
            "expires_at": {"type": "string", "format": "date-time"},
            "server_time": {"type": "string", "format": "date-time"},
            "user": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "username": {"type": "string"},
                    "display_name": {"type": "string"},
                    "role": {"type": "string"},
                    "area_code": {"type": "string"},
                },
            },
            "limits": {
                "type": "object",
                "properties": {
                    "max_blob_bytes": {"type": "integer"},
                    "max_ops": {"type": "integer"},
                    "page_size": {"type": "integer"},
                    "protocol": {"const": PROTOCOL},
                },
            },
        },
    },
    "BlobStatus": {
        "type": "object",
        "properties": {
            "sha256": SHA,
            "received": {"type": "integer"},
            "complete": {"type": "boolean"},
            "max_bytes": {"type": "integer"},
        },
    },
    "Conflict": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "inspection_id": {"type": "string"},
            "point_code": {"type": "string"},
            "fields": {"type": "array", "items": OBJ},
            "server_version": ref("Inspection"),
            "client_version": ref("Inspection"),
            "status": {"enum": ["open", "resolved"]},
        },
    },
}


def _paths() -> dict:
    sha = [_path_param("sha256", SHA)]
    cid = [_path_param("conflict_id", {"type": "integer"})]
    page = [_query("limit", {"type": "integer"}), _query("offset", {"type": "integer"})]
    return {
        "/api/auth/login": {
            "post": _op(
                "Log a device in; issues its bearer token",
                _json(ref("Token")),
                body=ref("Login"),
                auth=False,
            )
        },
        "/api/auth/rotate": {"post": _op("Replace this device's token", _json(ref("Token")))},
        "/api/auth/logout": {"post": _op("Revoke this device's token", _json(OBJ))},
        "/api/devices": {"get": _op("Devices you may manage", _json(OBJ))},
        "/api/devices/{device_id}/revoke": {
            "post": _op(
                "Revoke a device (lost phone)",
                _json(OBJ),
                errors=(401, 404),
                params=[_path_param("device_id", {"type": "string"})],
            )
        },
        "/api/sync": {
            "post": _op(
                "Push ops and pull changes in one round trip (gzip accepted both ways)",
                _json(ref("SyncResponse")),
                body=ref("SyncRequest"),
                errors=(400, 401, 403, 413),
            )
        },
        "/api/blobs/{sha256}/status": {
            "get": _op(
                "How many bytes of a photo the server holds", _json(ref("BlobStatus")), params=sha
            )
        },
        "/api/blobs/{sha256}": {
            "put": {
                **_op(
                    "Upload (or continue) a photo; header Content-Range bytes a-b/total",
                    _json(ref("BlobStatus")),
                    errors=(400, 401, 409, 413, 415, 422),
                    params=sha,
                ),
                "requestBody": {
                    "required": True,
                    "description": "JPEG, PNG or WebP bytes; the type is read from them (415)",
                    "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
                },
            },
            "get": _op(
                "Download a photo",
                {
                    "description": "The photo bytes, typed by their magic number",
                    "content": {
                        t: {"schema": {"type": "string", "format": "binary"}}
                        for t in ("image/jpeg", "image/png", "image/webp")
                    },
                },
                errors=(401, 404),
                params=sha,
            ),
        },
        "/api/conflicts": {
            "get": _op(
                "Conflicts in your area (supervisors)",
                _json(
                    {
                        "type": "object",
                        "properties": {"conflicts": {"type": "array", "items": ref("Conflict")}},
                    }
                ),
                errors=(401, 403),
                params=[_query("status", {"enum": ["open", "resolved", "all"]}), *page],
            )
        },
        "/api/conflicts/{conflict_id}": {
            "get": _op("One conflict", _json(ref("Conflict")), errors=(401, 403, 404), params=cid)
        },
        "/api/conflicts/{conflict_id}/resolve": {
            "post": _op(
                "Resolve a conflict",
                _json(ref("Conflict")),
                errors=(400, 401, 403, 404, 409),
                params=cid,
                body={
                    "type": "object",
                    "properties": {"take": {"enum": ["server", "client"]}, "choices": OBJ},
                },
            )
        },
        "/api/quarantine": {
            "get": _op(
                "Ops that could not be applied, with the reason",
                _json(OBJ),
                errors=(401,),
                params=[_query("code", {"type": "string"}), *page],
            )
        },
    }


def spec(settings: Any = None) -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Xunjian 巡检 API",
            "version": str(PROTOCOL),
            "description": "Offline sync protocol: see docs/sync-protocol.md.",
        },
        "components": {
            "schemas": {**SCHEMAS, **schemas(getattr(settings, "sync_page_size", 500))},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "paths": _paths(),
    }
