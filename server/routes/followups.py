"""/followups: follow-ups (限期整改) per township and point, overdue first, and one
follow-up's page with what a supervisor may do to it. Thin: services/followups.py answers."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from server.db import db_int, session_scope
from server.domain import followups as rule
from server.errors import AppError, BadRequest
from server.pages.guard import checked_form, csrf_failed, form_text, page, secret
from server.pages.render import render
from server.services import area_choice, followups, web_session
from server.services.web_session import Viewer

MAX_PHOTO = 15 * 1024 * 1024


def _id(request: Request) -> int:
    found = db_int(request.path_params["follow_id"])  # past 32 bits: not found, never a 500
    return -1 if found is None else found


@page
async def follow_list(request: Request, who: Viewer) -> Response:
    qp = request.query_params
    state = qp.get("status", "")
    point = qp.get("point", "").strip()[:32]

    def load() -> dict:
        with session_scope(request.app.state.engine) as db:
            area = area_choice.chosen(db, who.scope, qp.get("area"))
            every = followups.in_scope(db, who.scope, area, point_code=point or None)
            tally = dict.fromkeys(rule.STATES, 0)
            for r in every:  # "open" counts the overdue ones too, as the overview does
                tally[r.status] += 1
                tally[rule.OVERDUE] += r.state == rule.OVERDUE
            return {
                "area": area,
                "choices": area_choice.choices(db, who.scope),
                "total": len(every),
                "rows": [r for r in every if not state or state in (r.state, r.status)],
                "tally": tally,
            }

    if state and state not in rule.STATES:
        raise BadRequest("error.followup_status", field="status", value=state[:20])
    ctx = await run_in_threadpool(load)
    ctx.update(state=state, point=point, states=rule.STATES, today=followups.today())
    return render(request, "followups/list.html", ctx, who=who)


async def _detail(request: Request, who: Viewer, *, error=None, status=200) -> Response:
    follow_id = _id(request)

    def load() -> dict:
        with session_scope(request.app.state.engine) as db:
            row, opened = followups.one(db, who.scope, follow_id)
            return {"row": row, "opened": opened}

    ctx = await run_in_threadpool(load)
    ctx.update(
        error=error,
        may_change=who.scope.supervises and ctx["row"].status != rule.CLOSED,
        notice=request.query_params.get("notice", ""),
    )
    return render(request, "followups/detail.html", ctx, who=who, status=status)


@page
async def follow_detail(request: Request, who: Viewer) -> Response:
    return await _detail(request, who)


def _write(request: Request, fn):
    def run():
        with session_scope(request.app.state.engine, write=True) as db:
            return fn(db)

    return run_in_threadpool(run)


@page
async def follow_fixed(request: Request, who: Viewer) -> Response:
    follow_id = _id(request)
    form = await checked_form(request, who)
    note = form_text(form, "note", followups.NOTE_MAX)
    try:
        await _write(request, lambda db: followups.mark_fixed(db, who.scope, follow_id, note))
    except AppError as exc:
        return await _detail(request, who, error=exc, status=exc.status)
    return RedirectResponse(f"/followups/{follow_id}?notice=fixed", status_code=303)


@page
async def follow_close(request: Request, who: Viewer) -> Response:
    """Close on photo evidence: a photo uploaded with the form (sniffed, stored like a
    phone's) and a note, in one step; nothing is stored when the close is refused."""
    follow_id = _id(request)
    form = await request.form(max_files=1, max_fields=10, max_part_size=MAX_PHOTO)
    if not web_session.csrf_ok(secret(request), who.session, form.get("csrf")):
        raise csrf_failed()
    note = form_text(form, "note", followups.NOTE_MAX)
    upload = form.get("photo")
    try:
        if not isinstance(upload, UploadFile):
            raise BadRequest("error.evidence_required", field="photo")
        data = await upload.read(MAX_PHOTO + 1)
        if len(data) > MAX_PHOTO:
            raise BadRequest("error.file_too_big", field="photo", max=MAX_PHOTO // (1024 * 1024))
        data_dir = request.app.state.settings.data_path
        await _write(
            request,
            lambda db: followups.close_with_photo(
                db, who.scope, follow_id, data=data, note=note, data_dir=data_dir
            ),
        )
    except AppError as exc:
        return await _detail(request, who, error=exc, status=exc.status)
    return RedirectResponse(f"/followups/{follow_id}?notice=closed", status_code=303)


routes = [
    Route("/followups", follow_list, methods=["GET"]),
    Route("/followups/{follow_id}", follow_detail, methods=["GET"]),
    Route("/followups/{follow_id}/fixed", follow_fixed, methods=["POST"]),
    Route("/followups/{follow_id}/close", follow_close, methods=["POST"]),
]
