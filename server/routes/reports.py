"""/reports: the download buttons. Every report kind in every format, for an area the viewer
chooses within their scope (`area_choice`) and a cycle of that area's county, with the same
content as `xunjian report` (services/reports.py). Building and rendering run in the thread
pool: a PDF of a county takes seconds of CPU."""

from __future__ import annotations

from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.db import session_scope
from server.errors import BadRequest
from server.pages.format import BEIJING
from server.pages.guard import page
from server.pages.lang import request_lang
from server.pages.render import render
from server.reports import render as render_report
from server.reports.model import FORMATS_OF, KINDS
from server.services import area_choice, report_data, reports
from server.services.web_session import Viewer

MIME = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "html": "text/html; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
}


def _cycle_id(request: Request) -> int | None:
    raw = request.query_params.get("cycle", "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise BadRequest("error.report_cycle_id", code="report_cycle_id", field="cycle") from None


@page
async def reports_page(request: Request, who: Viewer) -> Response:
    code = request.query_params.get("area")
    cycle_id = _cycle_id(request)

    def load() -> dict:
        with session_scope(request.app.state.engine) as db:
            area = area_choice.chosen(db, who.scope, code)
            cycles = report_data.cycles_for(db, area)
            return {
                "area": area,
                "choices": area_choice.choices(db, who.scope),
                "cycles": cycles,
                "cycle_id": cycle_id,
                "kinds": [(k, FORMATS_OF[k]) for k in KINDS],
            }

    return render(request, "reports.html", await run_in_threadpool(load), who=who)


@page
async def download(request: Request, who: Viewer) -> Response:
    kind = request.query_params.get("kind", "")
    fmt = request.query_params.get("format", "")
    code = request.query_params.get("area")
    cycle_id = _cycle_id(request)
    reports.check_kind(kind, fmt)
    lang = request_lang(request, who)
    settings = request.app.state.settings

    def build() -> tuple[bytes, str]:
        from datetime import datetime

        with session_scope(request.app.state.engine) as db:
            area = area_choice.chosen(db, who.scope, code)
            req = reports.Request(
                kind=kind,
                fmt=fmt,
                cycle_id=cycle_id,
                area=area,
                lang=lang,
                today=datetime.now(BEIJING).date(),
                data_dir=settings.data_path,
            )
            report = reports.build(db, req)
            # inside the session: a CSV's rows are read as they are written
            return render_report(report, fmt), f"{area.code}-{report.filename(fmt)}"

    body, name = await run_in_threadpool(build)
    return Response(
        body,
        media_type=MIME[fmt],
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
            "Cache-Control": "no-store",
        },
    )


routes = [Route("/reports", reports_page), Route("/reports/download", download)]
