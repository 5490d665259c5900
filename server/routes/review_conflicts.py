"""/review/conflicts: two phones edited the same inspection; a supervisor picks per field.

The choice goes through `conflicts.resolve_conflict`, the same service as
`POST /api/conflicts/{id}/resolve`, so phones learn the outcome on their next pull.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from server.db import session_scope
from server.errors import BadRequest, NotFound
from server.models import (
    Blob,
    ChecklistTemplate,
    Inspection,
    ServicePoint,
    SyncConflict,
    TemplateVersion,
    User,
)
from server.pages import format as fmt
from server.pages.guard import checked_form, page, page_number
from server.pages.render import render
from server.services.conflicts import resolve_conflict
from server.services.web_session import Viewer

PAGE_SIZE = 50
STATUSES = ("open", "resolved", "all")
SIDES = ("keep", "server", "client")


def _not_found() -> NotFound:
    return NotFound("error.conflict_not_found")


def _in_scope(db: Session, who: Viewer):
    """Conflicts on inspections of service points in the viewer's area subtree."""
    return (
        select(SyncConflict, ServicePoint, User, TemplateVersion)
        .join(Inspection, Inspection.id == SyncConflict.inspection_id)
        .join(ServicePoint, ServicePoint.id == Inspection.point_id)
        .join(User, User.id == SyncConflict.user_id)
        .join(TemplateVersion, TemplateVersion.id == Inspection.template_version_id)
        .where(who.scope.points_here())
    )


@page
async def conflict_list(request: Request, who: Viewer) -> Response:
    status = request.query_params.get("status", "open")
    status = status if status in STATUSES else "open"
    page_no = page_number(request)

    def run() -> list[dict]:
        with session_scope(request.app.state.engine) as db:
            q = _in_scope(db, who)
            if status != "all":
                q = q.where(SyncConflict.status == status)
            q = q.order_by(SyncConflict.created_at.desc(), SyncConflict.id.desc())
            rows = db.exec(q.offset((page_no - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)).all()
        templates: dict[int, Any] = {}
        out = []
        for c, point, user, tv in rows:
            if tv.id not in templates:
                templates[tv.id] = fmt.template_of(tv.content)
            out.append(
                {
                    "id": c.id,
                    "point": point,
                    "user": user,
                    "device_id": c.device_id,
                    "when": c.created_at,
                    "status": c.status,
                    "template": templates[tv.id],
                    "paths": [f["field"] for f in c.fields],
                }
            )
        return out

    rows = await run_in_threadpool(run)
    return render(
        request,
        "review/conflicts.html",
        {
            "rows": rows[:PAGE_SIZE],
            "status": status,
            "page": page_no,
            "more": len(rows) > PAGE_SIZE,
        },
        who=who,
    )


@dataclass(frozen=True)
class FieldRow:
    path: str
    server: Any
    client: Any
    current: Any
    winner: str
    server_photos: list[dict]
    client_photos: list[dict]
    chosen: str | None  # after resolution: keep | server | client | other


def _chosen(resolution: dict | None, f: dict) -> str | None:
    if not resolution:
        return None
    choices = resolution.get("choices") or {}
    if f["field"] not in choices:
        return "keep"
    value = choices[f["field"]]
    if value == f["server"]:
        return "server"
    return "client" if value == f["client"] else "other"


def _photos(photos: list[dict], complete: set[str]) -> list[dict]:
    return [{"sha256": p["sha256"], "shown": p["sha256"] in complete} for p in photos]


def _detail(db: Session, who: Viewer, cid: int) -> dict:
    row = db.exec(_in_scope(db, who).where(SyncConflict.id == cid)).first()
    if row is None:
        raise _not_found()
    c, point, user, tv = row
    insp = db.get(Inspection, c.inspection_id)
    assert insp is not None
    template = fmt.template_of(tv.content)
    kind = db.get(ChecklistTemplate, tv.template_id)
    current = {
        "answers": insp.answers,
        "notes": insp.notes,
        "gps": insp.gps,
        "started_at": insp.started_at,
    }
    shas = {
        p["sha256"]
        for v in (c.server_version, c.client_version)
        for f in c.fields
        for p in fmt.photos_of(v, f["field"])
    }
    complete = set(
        db.exec(select(Blob.sha256).where(Blob.sha256.in_(sorted(shas)), Blob.complete)).all()
        if shas
        else []
    )
    fields = []
    for f in c.fields:
        path = f["field"]
        fields.append(
            FieldRow(
                path=path,
                server=f["server"],
                client=f["client"],
                current=fmt.field_value(current, path),
                winner=f["winner"],
                server_photos=_photos(fmt.photos_of(c.server_version, path), complete),
                client_photos=_photos(fmt.photos_of(c.client_version, path), complete),
                chosen=_chosen(c.resolution, f),
            )
        )
    resolver = db.get(User, c.resolved_by) if c.resolved_by else None
    return {
        "c": c,
        "point": point,
        "inspector": user,
        "inspection": insp,
        "template": template,
        "template_name": (kind.name_zh, kind.name_en) if kind else ("", ""),
        "template_version": tv.version,
        "fields": fields,
        "resolver": resolver,
        "new_rev": (c.resolution or {}).get("rev"),
    }


def _cid(request: Request) -> int:
    try:
        return int(request.path_params["conflict_id"])
    except ValueError:
        raise _not_found() from None


@page
async def conflict_detail(request: Request, who: Viewer) -> Response:
    cid = _cid(request)

    def run() -> dict:
        with session_scope(request.app.state.engine) as db:
            return _detail(db, who, cid)

    ctx = await run_in_threadpool(run)
    ctx["notice"] = request.query_params.get("notice")
    return render(request, "review/conflict.html", ctx, who=who)


@page
async def conflict_resolve(request: Request, who: Viewer) -> Response:
    cid = _cid(request)
    form = await checked_form(request, who)
    engine = request.app.state.engine

    def run() -> None:
        with session_scope(engine) as db:
            row = db.exec(_in_scope(db, who).where(SyncConflict.id == cid)).first()
            if row is None:
                raise _not_found()
            conflict = row[0]
        by_path = {f["field"]: f for f in conflict.fields}
        sides: dict[str, str] = {}
        for f in conflict.fields:
            side = form.get("pick:" + f["field"])
            if side not in SIDES:
                raise BadRequest("error.pick_every_field", code="bad_field", field=f["field"])
            sides[f["field"]] = str(side)
        picked = {path: by_path[path][side] for path, side in sides.items() if side != "keep"}
        assert who.user.id is not None
        # "already resolved" (409) and the audit entry live in the service's transaction
        resolve_conflict(engine, cid, picked, who.user.id, {"fields": sides})

    await run_in_threadpool(run)
    return RedirectResponse(f"/review/conflicts/{cid}?notice=resolved", status_code=303)


routes = [
    Route("/review/conflicts", conflict_list, methods=["GET"]),
    Route("/review/conflicts/{conflict_id}", conflict_detail, methods=["GET"]),
    Route("/review/conflicts/{conflict_id}/resolve", conflict_resolve, methods=["POST"]),
]
