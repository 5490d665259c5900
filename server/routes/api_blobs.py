"""/api/blobs/{sha256}: resumable photo upload, its status, and download."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse
from starlette.routing import Route

from server.db import session_scope
from server.errors import AppError, Forbidden, NotFound
from server.routes.api_common import bad_request, json_response
from server.services import blob_upload
from server.services.blobstore import is_sha256, stored_photo
from server.services.devices import authenticate
from server.services.photo_access import named_by_user, visible_in
from server.services.scope import scope_of


def _sha(request: Request) -> str:
    sha = request.path_params["sha256"]
    if not is_sha256(sha):
        raise bad_request("bad_sha256", "sha256")
    return sha


async def _may(request: Request, sha: str, send: bool) -> None:
    """The caller may send this photo (one of their inspections names it) or, for reading,
    see it (an inspection in their area names it); one trip to the pool for both checks."""
    header = request.headers.get("authorization")

    def run() -> bool:
        with session_scope(request.app.state.engine) as session:
            caller = authenticate(session, header)
            assert caller.user.id is not None
            if named_by_user(session, caller.user.id, sha):
                return True
            if send:
                return False
            return visible_in(session, scope_of(session, caller.user), sha, own=False)

    if not await run_in_threadpool(run):
        if send:
            raise Forbidden.protocol("photo_not_named", "sha256")
        raise NotFound("error.photo_not_uploaded")


def _mb(n: int) -> str:
    return f"{n / 1_048_576:.1f}"


def _error(exc: blob_upload.UploadError) -> AppError:
    params = dict(exc.params)
    if exc.code == "too_large":
        params.update(size_mb=_mb(int(params["size"])), max_mb=_mb(int(params["max_bytes"])))
    headers = {}
    if "retry_after" in params:
        headers["Retry-After"] = str(params["retry_after"])
    return AppError.protocol(
        exc.code, status=exc.status, extra=dict(exc.params), headers=headers, **params
    )


async def blob_status(request: Request):
    sha = _sha(request)
    await _may(request, sha, send=False)
    settings = request.app.state.settings
    held, complete = await run_in_threadpool(
        blob_upload.status, request.app.state.engine, settings.data_path, sha
    )
    return json_response(
        request,
        {
            "sha256": sha,
            "received": held,
            "complete": complete,
            "max_bytes": settings.max_blob_bytes,
        },
    )


async def put_blob(request: Request):
    sha = _sha(request)
    await _may(request, sha, send=True)
    settings = request.app.state.settings
    length = request.headers.get("content-length")
    try:
        rng = blob_upload.parse_range(
            request.headers.get("content-range"), int(length) if length else None
        )
        if rng is None:
            raise blob_upload.UploadError("bad_range", 400)
        if length is not None and int(length) != rng.end - rng.start + 1:
            raise blob_upload.UploadError("bad_range", 400)
        held, complete = await blob_upload.receive(
            request.app.state.engine,
            settings.data_path,
            sha,
            rng,
            request.stream(),
            settings.max_blob_bytes,
            settings.upload_idle_seconds,
        )
    except blob_upload.UploadError as exc:
        raise _error(exc) from None
    return json_response(request, {"sha256": sha, "received": held, "complete": complete})


async def get_blob(request: Request):
    sha = _sha(request)
    await _may(request, sha, send=False)
    found = await run_in_threadpool(stored_photo, request.app.state.settings.data_path, sha)
    if found is None:
        raise NotFound("error.photo_not_uploaded")
    path, mime = found
    headers = {"Cache-Control": "private, max-age=31536000, immutable"}
    if mime is None:  # stored before uploads were sniffed: never rendered inline
        headers["Content-Disposition"] = f'attachment; filename="{sha[:12]}"'
    return FileResponse(path, media_type=mime or "application/octet-stream", headers=headers)


routes = [
    Route("/api/blobs/{sha256}/status", blob_status, methods=["GET"]),
    Route("/api/blobs/{sha256}", put_blob, methods=["PUT"]),
    Route("/api/blobs/{sha256}", get_blob, methods=["GET"]),
]
