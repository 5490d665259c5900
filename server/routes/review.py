"""/review: the supervisor's office pages. Overview, quarantine, devices and photos here;
conflicts in review_conflicts.py. Every page needs a web login (web_auth.page) and shows
only rows in the viewer's area subtree, as the JSON API does."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func
from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route

from server.db import session_scope
from server.domain.templates import Template
from server.errors import NotFound
from server.models import (
    Blob,
    ChecklistTemplate,
    Inspection,
    Quarantine,
    ServicePoint,
    SyncConflict,
    TemplateVersion,
    User,
)
from server.pages import format as fmt
from server.pages.guard import checked_form, page, page_number
from server.pages.render import render
from server.routes import review_conflicts
from server.services import device_admin
from server.services.blobstore import blob_path, is_sha256
from server.services.web_session import Viewer

PAGE_SIZE = 100
# Served inline; anything else (an SVG could carry script) is offered as a download.
INLINE_IMAGES = {"image/jpeg", "image/png", "image/webp", "image/gif"}


@page
async def overview(request: Request, who: Viewer) -> Response:
    def run() -> dict:
        with session_scope(request.app.state.engine) as db:
            subtree = who.scope.areas()
            points = select(ServicePoint.id).where(ServicePoint.township_id.in_(subtree))
            open_conflicts = db.exec(
                select(func.count())
                .select_from(SyncConflict)
                .join(Inspection, Inspection.id == SyncConflict.inspection_id)
                .where(Inspection.point_id.in_(points), SyncConflict.status == "open")
            ).one()
            quarantined = db.exec(
                select(func.count())
                .select_from(Quarantine)
                .join(User, User.id == Quarantine.user_id)
                .where(User.area_id.in_(subtree))
            ).one()
            device_rows = device_admin.in_scope(db, who.scope)
        active = sum(1 for d in device_rows if d.state == "active")
        return {
            "open_conflicts": open_conflicts,
            "quarantined": quarantined,
            "devices": len(device_rows),
            "active_devices": active,
        }

    return render(request, "review/index.html", await run_in_threadpool(run), who=who)


@page
async def quarantine(request: Request, who: Viewer) -> Response:
    page_no = page_number(request)

    def run() -> list[dict]:
        with session_scope(request.app.state.engine) as db:
            q = (
                select(Quarantine, User, ServicePoint.name)
                .join(User, User.id == Quarantine.user_id)
                .outerjoin(ServicePoint, ServicePoint.code == Quarantine.point_code)
                .where(User.area_id.in_(who.scope.areas()))
                .order_by(Quarantine.created_at.desc(), Quarantine.id.desc())
                .offset((page_no - 1) * PAGE_SIZE)
                .limit(PAGE_SIZE + 1)
            )
            rows = db.exec(q).all()
            templates = _templates_named(db, [r for r, _, _ in rows])
        return [
            {
                "q": r,
                "user": user,
                "point_name": point_name,
                "template": _field_template(templates, r),
                "raw": fmt.pretty_json(r.raw),
            }
            for r, user, point_name in rows
        ]

    rows = await run_in_threadpool(run)
    ctx = {"rows": rows[:PAGE_SIZE], "page": page_no, "more": len(rows) > PAGE_SIZE}
    return render(request, "review/quarantine.html", ctx, who=who)


def _template_ref(q: Quarantine) -> tuple[str, int] | None:
    data = q.raw.get("data") if isinstance(q.raw, dict) else None
    if not isinstance(data, dict):
        return None
    key, version = data.get("template_key"), data.get("template_version")
    if isinstance(key, str) and isinstance(version, int) and not isinstance(version, bool):
        return key, version
    return None


def _templates_named(db: Session, rows: list[Quarantine]) -> dict[tuple[str, int], Template]:
    """The checklist versions the quarantined ops name, to label `answers.<item>` fields."""
    refs = {ref for r in rows if r.field and (ref := _template_ref(r))}
    if not refs:
        return {}
    found = db.exec(
        select(ChecklistTemplate.key, TemplateVersion.version, TemplateVersion.content)
        .join(ChecklistTemplate, ChecklistTemplate.id == TemplateVersion.template_id)
        .where(ChecklistTemplate.key.in_(sorted({k for k, _ in refs})))
    ).all()
    out = {}
    for key, version, content in found:
        if (key, version) in refs and (template := fmt.template_of(content)) is not None:
            out[(key, version)] = template
    return out


def _field_template(templates: dict, q: Quarantine) -> Template | None:
    """The checklist that names a quarantined op's field, when it is one of its items."""
    ref = _template_ref(q)
    if not q.field or ref not in templates or fmt.item_of(templates[ref], q.field) is None:
        return None
    return templates[ref]


def _aware(dt: datetime | None) -> datetime | None:
    return dt.replace(tzinfo=UTC) if dt is not None and dt.tzinfo is None else dt


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

    def run() -> Blob | None:
        with session_scope(request.app.state.engine) as db:
            return db.get(Blob, sha)

    blob = await run_in_threadpool(run)
    path = blob_path(request.app.state.settings.data_path, sha)
    if blob is None or not blob.complete or not path.exists():
        raise missing
    inline = blob.mime in INLINE_IMAGES
    headers = {
        "Cache-Control": "private, max-age=31536000, immutable",
        "X-Content-Type-Options": "nosniff",
    }
    if not inline:
        headers["Content-Disposition"] = f'attachment; filename="{sha}"'
    return FileResponse(
        path, media_type=blob.mime if inline else "application/octet-stream", headers=headers
    )


routes = [
    Route("/review", overview, methods=["GET"]),
    *review_conflicts.routes,
    Route("/review/quarantine", quarantine, methods=["GET"]),
    Route("/review/devices", device_list, methods=["GET"]),
    Route("/review/devices/{device_id}/revoke", revoke_confirm, methods=["GET"]),
    Route("/review/devices/{device_id}/revoke", revoke_device, methods=["POST"]),
    Route("/review/photos/{sha256}", photo, methods=["GET"]),
]
