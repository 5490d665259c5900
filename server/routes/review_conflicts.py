"""/review/conflicts: two phones edited the same inspection; a supervisor picks per field.

The choice goes through `conflict_review.resolve`, the same service as
`POST /api/conflicts/{id}/resolve`, so phones learn the outcome on their next pull.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from server.db import db_int, session_scope
from server.errors import NotFound
from server.pages.guard import checked_form, page, page_number
from server.pages.render import render
from server.services import conflict_review
from server.services.web_session import Viewer

PAGE_SIZE = 50


def _cid(request: Request) -> int:
    cid = db_int(request.path_params["conflict_id"])
    if cid is None or cid < 1:
        raise NotFound("error.conflict_not_found")
    return cid


@page
async def conflict_list(request: Request, who: Viewer) -> Response:
    status = request.query_params.get("status", "open")
    status = status if status in conflict_review.STATUSES else "open"
    page_no = page_number(request)

    def run() -> list[conflict_review.ConflictRow]:
        with session_scope(request.app.state.engine) as db:
            offset = (page_no - 1) * PAGE_SIZE
            return conflict_review.listed(
                db, who.scope, status, offset=offset, limit=PAGE_SIZE + 1, newest_first=True
            )

    rows = await run_in_threadpool(run)
    context = {
        "rows": rows[:PAGE_SIZE],
        "status": status,
        "page": page_no,
        "more": len(rows) > PAGE_SIZE,
    }
    return render(request, "review/conflicts.html", context, who=who)


@page
async def conflict_detail(request: Request, who: Viewer) -> Response:
    cid = _cid(request)

    def run() -> conflict_review.ConflictDetail:
        with session_scope(request.app.state.engine) as db:
            return conflict_review.detail(db, who.scope, cid)

    context = {"d": await run_in_threadpool(run), "notice": request.query_params.get("notice")}
    return render(request, "review/conflict.html", context, who=who)


@page
async def conflict_resolve(request: Request, who: Viewer) -> Response:
    cid = _cid(request)
    form = await checked_form(request, who)
    sides = {
        key.removeprefix("pick:"): str(value)
        for key, value in form.multi_items()
        if key.startswith("pick:")
    }
    await run_in_threadpool(
        conflict_review.resolve, request.app.state.engine, who.scope, cid, sides=sides
    )
    return RedirectResponse(f"/review/conflicts/{cid}?notice=resolved", status_code=303)


routes = [
    Route("/review/conflicts", conflict_list, methods=["GET"]),
    Route("/review/conflicts/{conflict_id}", conflict_detail, methods=["GET"]),
    Route("/review/conflicts/{conflict_id}/resolve", conflict_resolve, methods=["POST"]),
]
