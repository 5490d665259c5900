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
from server.pages.lang import request_lang
from server.pages.render import render
from server.services import area_choice
from server.services.compliance_map import BANDS, NO_DATA, RATING_COLORS, map_data, positions
from server.services.overview import table
from server.services.plans import today
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


@page
async def compliance_map(request: Request, who: Viewer) -> Response:
    qp = request.query_params
    settings = request.app.state.settings

    def load() -> dict:
        with session_scope(request.app.state.engine) as db:
            area = area_choice.chosen(db, who.scope, qp.get("area"))
            t = table(db, area, qp.get("cycle"), today(), with_previous=False)
            shaped, unplaced = positions(db, t)
            return {
                "area": area,
                "choices": area_choice.choices(db, who.scope),
                "view": t,
                "choice": t.choice,
                "shaped": shaped,
                "unplaced": unplaced,
                "bands": BANDS,
                "no_data": NO_DATA,
                "rating_colors": RATING_COLORS,
                "tiles": settings.map_tiles,
                "attribution": settings.map_attribution,
            }

    return render(request, "map.html", await run_in_threadpool(load), who=who)


@page
async def map_geojson(request: Request, who: Viewer) -> Response:
    qp = request.query_params
    lang = request_lang(request, who)

    def load() -> bytes:
        with session_scope(request.app.state.engine) as db:
            area = area_choice.chosen(db, who.scope, qp.get("area"))
            return map_data(db, area, qp.get("cycle"), lang)

    body = await run_in_threadpool(load)
    return Response(body, media_type="application/geo+json", headers={"Cache-Control": "no-store"})


routes = [
    Route("/points", points),
    Route("/map", compliance_map),
    Route("/map/data.geojson", map_geojson),
]
