"""/admin/areas and /admin/points: townships (add, rename, boundaries) and service points
(import with a preview, edit one, close or reopen)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from server.errors import AppError
from server.pages.guard import checked_form, form_text, page
from server.pages.render import render
from server.routes.admin_common import upload_form, with_rights
from server.services import boundaries, point_admin
from server.services.problems import ImportFileError
from server.services.web_session import Viewer


@page
async def area_list(request: Request, who: Viewer) -> Response:
    ctx = await with_rights(request, who, lambda db, r: point_admin.area_overview(db, r))
    ctx.update(
        section="areas", error=None, report=None, notice=request.query_params.get("notice", "")
    )
    return render(request, "admin/areas.html", ctx, who=who)


async def _areas_again(request, who, *, error=None, report=None, status=200) -> Response:
    ctx = await with_rights(request, who, lambda db, r: point_admin.area_overview(db, r))
    ctx.update(section="areas", error=error, report=report, notice="")
    return render(request, "admin/areas.html", ctx, who=who, status=status)


@page
async def area_add(request: Request, who: Viewer) -> Response:
    form = await checked_form(request, who)
    code, name = form_text(form, "code", 12), form_text(form, "name", 80)
    try:
        await with_rights(
            request, who, lambda db, r: point_admin.add_township(db, r, code, name), write=True
        )
    except AppError as exc:
        return await _areas_again(request, who, error=exc, status=exc.status)
    return RedirectResponse("/admin/areas?notice=area_added", status_code=303)


@page
async def area_rename(request: Request, who: Viewer) -> Response:
    form = await checked_form(request, who)
    code, name = request.path_params["code"], form_text(form, "name", 80)
    try:
        await with_rights(
            request, who, lambda db, r: point_admin.rename_township(db, r, code, name), write=True
        )
    except AppError as exc:
        return await _areas_again(request, who, error=exc, status=exc.status)
    return RedirectResponse("/admin/areas?notice=area_renamed", status_code=303)


@page
async def boundary_upload(request: Request, who: Viewer) -> Response:
    _, data, filename = await upload_form(request, who)
    try:
        report = await with_rights(
            request,
            who,
            lambda db, r: boundaries.upload_boundaries(db, r, data, filename=filename),
            write=True,
        )
    except ImportFileError as exc:
        return await _areas_again(request, who, error=exc, status=400)
    if not report.written:
        return await _areas_again(request, who, report=report, status=400)
    return RedirectResponse(
        f"/admin/areas?notice=boundaries&n={len(report.stored)}", status_code=303
    )


@page
async def point_list(request: Request, who: Viewer) -> Response:
    township = request.query_params.get("township", "")
    q = request.query_params.get("q", "")[:64]
    ctx = await with_rights(
        request, who, lambda db, r: point_admin.point_overview(db, r, township, q)
    )
    ctx.update(
        section="points",
        township=township,
        q=q,
        notice=request.query_params.get("notice", ""),
        error=None,
    )
    return render(request, "admin/points.html", ctx, who=who)


@page
async def point_import_preview(request: Request, who: Viewer) -> Response:
    form, data, filename = await upload_form(request, who)
    allow_similar = form.get("allow_similar") == "1"
    token = point_admin.keep_upload(request.app.state.settings.data_path, data, filename)
    return await _preview(request, who, token, allow_similar)


async def _preview(request, who, token: str, allow_similar: bool) -> Response:
    data, filename = point_admin.read_upload(request.app.state.settings.data_path, token)
    try:
        report = await with_rights(
            request,
            who,
            lambda db, r: point_admin.import_register(
                db, r, data, filename, allow_similar=allow_similar, dry_run=True
            ),
        )
    except ImportFileError as exc:
        report, error = None, exc
    else:
        error = None
    ctx = {
        "section": "points",
        "report": report,
        "token": token,
        "filename": filename,
        "allow_similar": allow_similar,
        "error": error,
    }
    return render(request, "admin/points_preview.html", ctx, who=who, status=400 if error else 200)


@page
async def point_import_confirm(request: Request, who: Viewer) -> Response:
    form = await checked_form(request, who)
    token = form_text(form, "token", 80)
    allow_similar = form_text(form, "allow_similar", 2) == "1"
    skip_bad = form_text(form, "skip_bad", 2) == "1"
    data, filename = point_admin.read_upload(request.app.state.settings.data_path, token)
    report = await with_rights(
        request,
        who,
        lambda db, r: point_admin.import_register(
            db, r, data, filename, allow_similar=allow_similar, skip_bad=skip_bad
        ),
        write=True,
    )
    if not report.written:
        return await _preview(request, who, token, allow_similar)
    n = report.created + report.updated
    return RedirectResponse(f"/admin/points?notice=imported&n={n}", status_code=303)


@page
async def point_detail(request: Request, who: Viewer) -> Response:
    code = request.path_params["code"]
    ctx = await with_rights(request, who, lambda db, r: point_admin.point_form(db, r, code))
    ctx.update(section="points", error=None, notice=request.query_params.get("notice", ""))
    return render(request, "admin/point.html", ctx, who=who)


@page
async def point_update(request: Request, who: Viewer) -> Response:
    code = request.path_params["code"]
    form = await checked_form(request, who)
    values = {k: form_text(form, k, 80) for k in point_admin.EDITABLE}
    try:
        changes = await with_rights(
            request, who, lambda db, r: point_admin.update_point(db, r, code, values), write=True
        )
    except AppError as exc:
        if exc.status == 404:
            raise
        ctx = await with_rights(request, who, lambda db, r: point_admin.point_form(db, r, code))
        ctx.update(section="points", error=exc, notice="", values=values)
        return render(request, "admin/point.html", ctx, who=who, status=exc.status)
    notice = "saved" if changes else "unchanged"
    return RedirectResponse(f"/admin/points/{code}?notice={notice}", status_code=303)


@page
async def point_active(request: Request, who: Viewer) -> Response:
    code = request.path_params["code"]
    form = await checked_form(request, who)
    active = form_text(form, "active", 2) == "1"
    await with_rights(
        request, who, lambda db, r: point_admin.set_point_active(db, r, code, active), write=True
    )
    return RedirectResponse(
        f"/admin/points/{code}?notice={'reopened' if active else 'closed'}", status_code=303
    )


routes = [
    Route("/admin/areas", area_list, methods=["GET"]),
    Route("/admin/areas", area_add, methods=["POST"]),
    Route("/admin/areas/boundaries", boundary_upload, methods=["POST"]),
    Route("/admin/areas/{code}/rename", area_rename, methods=["POST"]),
    Route("/admin/points", point_list, methods=["GET"]),
    Route("/admin/points/import", point_import_preview, methods=["POST"]),
    Route("/admin/points/import/confirm", point_import_confirm, methods=["POST"]),
    Route("/admin/points/{code}", point_detail, methods=["GET"]),
    Route("/admin/points/{code}", point_update, methods=["POST"]),
    Route("/admin/points/{code}/active", point_active, methods=["POST"]),
]
