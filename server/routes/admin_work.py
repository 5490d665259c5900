"""/admin/plans, /admin/checklists, /admin/cycles and /admin/audit."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from server.db import db_int
from server.domain.templates import TemplateError
from server.errors import AppError, BadRequest
from server.pages.guard import checked_form, form_text, page, page_number
from server.pages.render import render
from server.routes.admin_common import form_date, upload_form, with_rights
from server.services import audit_view, checklist_admin, cycles, plans
from server.services.admin_rights import area_here, areas_here
from server.services.web_session import Viewer


def _int(raw: str | None) -> int | None:
    return db_int(raw) if raw else None


async def _plans_page(request, who, *, error=None, status=200) -> Response:
    qp = request.query_params
    cycle_id, inspector_id, state = (
        _int(qp.get("cycle")),
        _int(qp.get("inspector")),
        qp.get("state", ""),
    )

    def run(db, rights):
        rows = plans.list_plans(db, rights, cycle_id=cycle_id, inspector_id=inspector_id)
        total, per = plans.tally(rows)
        shown = [r for r in rows if not state or r.state == state]
        return {
            "rows": shown,
            "total": total,
            "per": per,
            "rights": rights,
            "cycles": cycles.cycles_here(db, rights.scope),
            "inspectors": plans.inspectors_here(db, rights),
        }

    ctx = await with_rights(request, who, run)
    ctx.update(
        section="plans",
        error=error,
        state=state,
        cycle_id=cycle_id,
        inspector_id=inspector_id,
        notice=qp.get("notice", ""),
        today=plans.today(),
    )
    return render(request, "admin/plans.html", ctx, who=who, status=status)


@page
async def plan_list(request: Request, who: Viewer) -> Response:
    return await _plans_page(request, who)


@page
async def plan_add(request: Request, who: Viewer) -> Response:
    form = await checked_form(request, who)
    try:
        start, due = form_date(form, "start_date"), form_date(form, "due_date")
        codes = form_text(form, "points", 20000).replace("，", ",").replace(",", " ").split()
        cycle_id, inspector_id = (
            _int(form_text(form, "cycle", 12)),
            _int(form_text(form, "inspector", 12)),
        )
        if cycle_id is None or inspector_id is None:
            raise BadRequest("error.plan_inspector", field="inspector")
        made, _ = await with_rights(
            request,
            who,
            lambda db, r: plans.add_plans(
                db,
                r,
                cycle_id=cycle_id,
                inspector_id=inspector_id,
                point_codes=codes,
                start=start,
                due=due,
                note=form_text(form, "note", 255),
            ),
            write=True,
        )
    except AppError as exc:
        return await _plans_page(request, who, error=exc, status=exc.status)
    return RedirectResponse(f"/admin/plans?notice=planned&n={len(made)}", status_code=303)


@page
async def plan_import(request: Request, who: Viewer) -> Response:
    form, data, filename = await upload_form(request, who)
    cycle_id = _int(form.get("cycle") if isinstance(form.get("cycle"), str) else None)
    try:
        report = await with_rights(
            request,
            who,
            lambda db, r: plans.import_plans(db, r, data, filename, cycle_id=cycle_id or -1),
            write=True,
        )
    except AppError as exc:
        return await _plans_page(request, who, error=exc, status=exc.status)
    if not report.written:
        ctx = {"section": "plans", "report": report, "error": None}
        return render(request, "admin/plans_import.html", ctx, who=who, status=400)
    return RedirectResponse(f"/admin/plans?notice=planned&n={report.made}", status_code=303)


@page
async def plan_cancel(request: Request, who: Viewer) -> Response:
    plan_id = _int(request.path_params["plan_id"]) or -1
    await checked_form(request, who)
    await with_rights(request, who, lambda db, r: plans.cancel_plan(db, r, plan_id), write=True)
    return RedirectResponse("/admin/plans?notice=cancelled", status_code=303)


async def _checklists_page(request, who, *, error=None, problems=(), status=200) -> Response:
    def run(db, rights):
        return {
            "applies": checklist_admin.where_applies(db, rights),
            "versions": checklist_admin.versions(db, rights),
            "counties": areas_here(db, rights.scope, "county"),
            "rights": rights,
        }

    ctx = await with_rights(request, who, run)
    ctx.update(
        section="checklists",
        error=error,
        problems=list(problems),
        notice=request.query_params.get("notice", ""),
    )
    return render(request, "admin/checklists.html", ctx, who=who, status=status)


@page
async def checklist_list(request: Request, who: Viewer) -> Response:
    return await _checklists_page(request, who)


@page
async def checklist_upload(request: Request, who: Viewer) -> Response:
    await with_rights(request, who, lambda _, r: r.require("checklists"))  # before the form
    form, data, _ = await upload_form(request, who)
    county = form.get("county") if isinstance(form.get("county"), str) else ""
    note = form.get("note") if isinstance(form.get("note"), str) else ""
    try:
        _, created = await with_rights(
            request,
            who,
            lambda db, r: checklist_admin.upload_version(
                db, r, data, county_code=county, note=note
            ),
            write=True,
        )
    except TemplateError as exc:
        return await _checklists_page(request, who, problems=exc.errors, status=400)
    except AppError as exc:
        return await _checklists_page(request, who, error=exc, status=exc.status)
    notice = "loaded" if created else "same"
    return RedirectResponse(f"/admin/checklists?notice={notice}", status_code=303)


@page
async def checklist_params(request: Request, who: Viewer) -> Response:
    key, county = request.path_params["key"], request.path_params["county"]

    def run(db, rights):
        area, version = checklist_admin.params_of(db, rights, key, county)
        return {"county": area, "version": version, "key": key, "rights": rights}

    ctx = await with_rights(request, who, run)
    ctx.update(section="checklists", error=None)
    return render(request, "admin/checklist_params.html", ctx, who=who)


@page
async def checklist_params_save(request: Request, who: Viewer) -> Response:
    key, county = request.path_params["key"], request.path_params["county"]
    await with_rights(request, who, lambda _, r: r.require("checklists"))  # before the form
    form = await checked_form(request, who)
    values = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf"}
    try:
        _, created = await with_rights(
            request,
            who,
            lambda db, r: checklist_admin.save_params(db, r, key, county, values),
            write=True,
        )
    except (AppError, TemplateError) as exc:
        err = (
            exc
            if isinstance(exc, AppError)
            else BadRequest("error.params_refused", detail=str(exc))
        )
        return await _checklists_page(request, who, error=err, status=err.status)
    return RedirectResponse(
        f"/admin/checklists?notice={'params' if created else 'same'}", status_code=303
    )


async def _cycles_page(request, who, *, error=None, status=200) -> Response:
    def run(db, rights):
        return {
            "rows": cycles.cycles_here(db, rights.scope),
            "rights": rights,
            "counties": areas_here(db, rights.scope, "county"),
        }

    ctx = await with_rights(request, who, run)
    ctx.update(section="cycles", error=error, notice=request.query_params.get("notice", ""))
    return render(request, "admin/cycles.html", ctx, who=who, status=status)


@page
async def cycle_list(request: Request, who: Viewer) -> Response:
    return await _cycles_page(request, who)


@page
async def cycle_add(request: Request, who: Viewer) -> Response:
    await with_rights(request, who, lambda _, r: r.require("cycles"))  # before the form
    form = await checked_form(request, who)
    try:
        start, end = form_date(form, "start_date"), form_date(form, "end_date")
        assessment = form_date(form, "assessment_date", required=False)

        def run(db, rights):
            rights.require("cycles")
            county = area_here(db, rights.scope, form_text(form, "county", 12), "county")
            return cycles.add_cycle(
                db,
                county.code,
                form_text(form, "name", 128),
                start,
                end,
                assessment=assessment,
                by=rights.scope.user_id,
                via="web",
                current=form_text(form, "current", 2) == "1",
            ).id

        await with_rights(request, who, run, write=True)
    except AppError as exc:
        return await _cycles_page(request, who, error=exc, status=exc.status)
    return RedirectResponse("/admin/cycles?notice=cycle_added", status_code=303)


@page
async def cycle_update(request: Request, who: Viewer) -> Response:
    cycle_id = _int(request.path_params["cycle_id"]) or -1
    form = await checked_form(request, who)
    try:
        assessment = form_date(form, "assessment_date", required=False)

        def run(db, rights):
            rights.require("cycles")
            return cycles.update_cycle(
                db,
                rights.scope,
                cycle_id,
                assessment=assessment,
                current=form_text(form, "current", 2) == "1",
                by=rights.scope.user_id,
            )

        changes = await with_rights(request, who, run, write=True)
    except AppError as exc:
        if exc.status == 404:
            raise
        return await _cycles_page(request, who, error=exc, status=exc.status)
    return RedirectResponse(
        f"/admin/cycles?notice={'saved' if changes else 'unchanged'}", status_code=303
    )


@page
async def audit_list(request: Request, who: Viewer) -> Response:
    qp = request.query_params
    try:
        since = form_date(qp, "since", required=False)  # type: ignore[arg-type]
        until = form_date(qp, "until", required=False)  # type: ignore[arg-type]
        error = None
    except AppError as exc:
        since = until = None
        error = exc
    f = audit_view.AuditFilter(
        user=qp.get("user", "")[:64],
        action=qp.get("action", "")[:64],
        area=qp.get("area", "")[:12],
        since=since,
        until=until,
        page=page_number(request),
    )

    def run(db, rights):
        rows, more = audit_view.entries(db, rights, f)
        return {
            "rows": rows,
            "more": more,
            "actions": audit_view.actions(db),
            "areas": areas_here(db, rights.scope),
            "rights": rights,
        }

    ctx = await with_rights(request, who, run)
    ctx.update(section="audit", f=f, error=error)
    return render(request, "admin/audit.html", ctx, who=who)


async def admin_home(request: Request) -> Response:
    return RedirectResponse("/admin/users", status_code=303)


routes = [
    Route("/admin", admin_home, methods=["GET"]),
    Route("/admin/plans", plan_list, methods=["GET"]),
    Route("/admin/plans", plan_add, methods=["POST"]),
    Route("/admin/plans/import", plan_import, methods=["POST"]),
    Route("/admin/plans/{plan_id}/cancel", plan_cancel, methods=["POST"]),
    Route("/admin/checklists", checklist_list, methods=["GET"]),
    Route("/admin/checklists", checklist_upload, methods=["POST"]),
    Route("/admin/checklists/{key}/{county}", checklist_params, methods=["GET"]),
    Route("/admin/checklists/{key}/{county}", checklist_params_save, methods=["POST"]),
    Route("/admin/cycles", cycle_list, methods=["GET"]),
    Route("/admin/cycles", cycle_add, methods=["POST"]),
    Route("/admin/cycles/{cycle_id}", cycle_update, methods=["POST"]),
    Route("/admin/audit", audit_list, methods=["GET"]),
]
