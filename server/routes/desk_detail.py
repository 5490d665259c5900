"""The director's desk below the overview: a township (or county) page, a point page, an
inspection, and the photos they show. Each page parses, calls one service in the thread
pool, and renders; anything outside the viewer's scope is "not found"."""

from __future__ import annotations

from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from server.db import session_scope
from server.errors import NotFound
from server.pages.guard import page
from server.pages.render import render
from server.services import area_detail, photo_view, point_detail
from server.services.blobstore import is_sha256, stored_photo
from server.services.web_session import Viewer

PHOTO_HEADERS = {
    "Cache-Control": "private, max-age=31536000, immutable",
    "X-Content-Type-Options": "nosniff",
}


@page
async def area(request: Request, who: Viewer) -> Response:
    code = request.path_params["code"]
    cycle = request.query_params.get("cycle")

    def load() -> area_detail.AreaView:
        with session_scope(request.app.state.engine) as db:
            return area_detail.area_view(db, who.scope, code, cycle)

    view = await run_in_threadpool(load)
    context = {"v": view, "area": view.area, "choice": view.choice}
    return render(request, "desk/area.html", context, who=who)


@page
async def point(request: Request, who: Viewer) -> Response:
    code = request.path_params["code"]

    def load() -> point_detail.PointView:
        with session_scope(request.app.state.engine) as db:
            return point_detail.point_view(db, who.scope, code)

    return render(request, "desk/point.html", {"v": await run_in_threadpool(load)}, who=who)


@page
async def inspection(request: Request, who: Viewer) -> Response:
    inspection_id = request.path_params["inspection_id"]

    def load() -> point_detail.InspectionView:
        with session_scope(request.app.state.engine) as db:
            return point_detail.inspection_view(db, who.scope, inspection_id)

    view = await run_in_threadpool(load)
    return render(request, "desk/inspection.html", {"v": view}, who=who)


def _scoped_sha(request: Request, who: Viewer) -> str:
    sha = request.path_params["sha256"]
    if not is_sha256(sha):
        raise NotFound("error.photo_not_found")

    def allowed() -> bool:
        with session_scope(request.app.state.engine) as db:
            return photo_view.photo_in_scope(db, who.scope, sha)

    return sha if allowed() else ""


@page
async def photo(request: Request, who: Viewer) -> Response:
    """A photo full size, when an inspection in the viewer's scope lists it."""
    data_dir = request.app.state.settings.data_path

    def load() -> tuple[Path, str | None] | None:
        sha = _scoped_sha(request, who)
        return stored_photo(data_dir, sha) if sha else None

    found = await run_in_threadpool(load)
    if found is None:
        raise NotFound("error.photo_not_found")
    path, mime = found
    headers = dict(PHOTO_HEADERS)
    if mime is None:  # not a JPEG, PNG or WebP: never rendered inline
        headers["Content-Disposition"] = f'attachment; filename="{path.name}"'
    return FileResponse(path, media_type=mime or "application/octet-stream", headers=headers)


@page
async def thumb(request: Request, who: Viewer) -> Response:
    """A photo's thumbnail, made on the server the first time it is asked for."""
    data_dir = request.app.state.settings.data_path

    def load() -> Path | None:
        sha = _scoped_sha(request, who)
        if not sha:
            return None
        try:
            return photo_view.thumbnail(data_dir, sha)
        except photo_view.Unreadable:
            return None

    path = await run_in_threadpool(load)
    if path is None:
        raise NotFound("error.photo_not_found")
    return FileResponse(path, media_type="image/jpeg", headers=PHOTO_HEADERS)


routes = [
    Route("/area/{code}", area, methods=["GET"]),
    Route("/point/{code}", point, methods=["GET"]),
    Route("/inspection/{inspection_id}", inspection, methods=["GET"]),
    Route("/photo/{sha256}", photo, methods=["GET"]),
    Route("/photo/{sha256}/thumb", thumb, methods=["GET"]),
]
