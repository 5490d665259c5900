"""The director's desk pages besides the overview: the list behind each of its numbers
(`/points`) and the township compliance map (`/map`, its data `/map/data.geojson`). Every
one takes the area within the viewer's scope (`?area=`) and the cycle (`?cycle=`)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.db import session_scope
from server.pages.guard import page, page_number
from server.pages.render import render
from server.services import area_choice
from server.services.point_list import RATINGS, Filters, point_list
from server.services.web_session import Viewer


@page
async def points(request: Request, who: Viewer) -> Response:
    qp = request.query_params
    filters = Filters.parse(qp)
    number = page_number(request)

    def load() -> dict:
        with session_scope(request.app.state.engine) as db:
            area = area_choice.chosen(db, who.scope, qp.get("area"))
            return {
                "area": area,
                "choices": area_choice.choices(db, who.scope),
                "view": point_list(db, area, qp.get("cycle"), filters, number),
                "ratings": RATINGS,
            }

    return render(request, "points.html", await run_in_threadpool(load), who=who)


routes = [Route("/points", points)]
