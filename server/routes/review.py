"""/review: the supervisor's office pages. Overview, quarantine, devices and photos here;
conflicts in review_conflicts.py. Every page needs a web login (`@page`) and shows only
rows in the viewer's scope, through the same services as the JSON API."""

from __future__ import annotations

from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route

from server.db import session_scope
from server.errors import NotFound
from server.models import Blob
from server.pages.guard import checked_form, page, page_number
from server.pages.render import render
from server.routes import review_conflicts
from server.services import device_admin, quarantine
from server.services.blobstore import is_sha256, stored_photo
from server.services.photo_access import visible_in
from server.services.review_counts import ReviewCounts, review_counts
from server.services.web_session import Viewer

PAGE_SIZE = 100


@page
async def overview(request: Request, who: Viewer) -> Response:
    def run() -> ReviewCounts:
        with session_scope(request.app.state.engine) as db:
            return review_counts(db, who.scope)

    context = {"counts": await run_in_threadpool(run)}
    return render(request, "review/index.html", context, who=who)


@page
async def quarantine_list(request: Request, who: Viewer) -> Response:
    page_no = page_number(request)

    def run() -> list[quarantine.QuarantineRow]:
        with session_scope(request.app.state.engine) as db:
            return quarantine.listed(
                db,
                who.scope,
                offset=(page_no - 1) * PAGE_SIZE,
                limit=PAGE_SIZE + 1,
                newest_first=True,
                with_templates=True,
            )

    rows = await run_in_threadpool(run)
    context = {"rows": rows[:PAGE_SIZE], "page": page_no, "more": len(rows) > PAGE_SIZE}
    return render(request, "review/quarantine.html", context, who=who)


@page
async def device_list(request: Request, who: Viewer) -> Response:
    def run() -> list[device_admin.DeviceRow]:
        with session_scope(request.app.state.engine) as db:
            return device_admin.in_scope(db, who.scope)

    rows = await run_in_threadpool(run)
    context = {"rows": rows, "notice": request.query_params.get("notice")}
    return render(request, "review/devices.html", context, who=who)


@page
async def revoke_confirm(request: Request, who: Viewer) -> Response:
    device_id = request.path_params["device_id"]

    def run() -> device_admin.DeviceRow:
        with session_scope(request.app.state.engine) as db:
            return device_admin.one(db, who.scope, device_id)

    context = {"row": await run_in_threadpool(run)}
    return render(request, "review/device_revoke.html", context, who=who)


@page
async def revoke_device(request: Request, who: Viewer) -> Response:
    device_id = request.path_params["device_id"]
    await checked_form(request, who)

    def run() -> bool:
        with session_scope(request.app.state.engine, write=True) as db:
            return device_admin.revoke(db, who.scope, device_id, via="web")[1]

    done = await run_in_threadpool(run)
    notice = "revoked" if done else "already_revoked"
    return RedirectResponse(f"/review/devices?notice={notice}", status_code=303)


@page
async def photo(request: Request, who: Viewer) -> Response:
    """A complete photo from the blob store (thumbnails on the conflict page)."""
    sha = request.path_params["sha256"]
    missing = NotFound("error.photo_incomplete")
    if not is_sha256(sha):
        raise missing

    def run() -> tuple[Path, str | None] | None:
        with session_scope(request.app.state.engine) as db:
            blob = db.get(Blob, sha)
            seen = visible_in(db, who.scope, sha)  # a hash alone shows no other area's photo
        if blob is None or not blob.complete or not seen:
            return None
        return stored_photo(request.app.state.settings.data_path, sha)

    found = await run_in_threadpool(run)
    if found is None:
        raise missing
    path, mime = found  # the type sniffed from the bytes, whatever the row says
    headers = {
        "Cache-Control": "private, max-age=31536000, immutable",
        "X-Content-Type-Options": "nosniff",
    }
    if mime is None:
        headers["Content-Disposition"] = f'attachment; filename="{sha}"'
    return FileResponse(path, media_type=mime or "application/octet-stream", headers=headers)


routes = [
    Route("/review", overview, methods=["GET"]),
    *review_conflicts.routes,
    Route("/review/quarantine", quarantine_list, methods=["GET"]),
    Route("/review/devices", device_list, methods=["GET"]),
    Route("/review/devices/{device_id}/revoke", revoke_confirm, methods=["GET"]),
    Route("/review/devices/{device_id}/revoke", revoke_device, methods=["POST"]),
    Route("/review/photos/{sha256}", photo, methods=["GET"]),
]
