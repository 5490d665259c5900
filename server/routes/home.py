"""The landing page: coverage and ratings for an area the viewer chooses within their scope
(services/area_choice.py). Nothing is shown without a login."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.db import session_scope
from server.pages.guard import page
from server.pages.render import render
from server.services import area_choice
from server.services.rollups import area_figures
from server.services.web_session import Viewer


@page
async def home(request: Request, who: Viewer) -> Response:
    code = request.query_params.get("area")

    def load() -> dict:
        with session_scope(request.app.state.engine) as db:
            area = area_choice.chosen(db, who.scope, code)
            return {
                "area": area,
                "choices": area_choice.choices(db, who.scope),
                "counties": area_figures(db, area),
            }

    return render(request, "home.html", await run_in_threadpool(load), who=who)


routes = [Route("/", home)]
