"""The overview (the director's desk): figures of an area the viewer chooses within their
scope, for a cycle (`?area=CODE&cycle=ID`), each number linking to the list behind it.
Nothing is shown without a login."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.db import session_scope
from server.pages.guard import page
from server.pages.render import render
from server.services import area_choice
from server.services.overview import overview
from server.services.plans import today
from server.services.web_session import Viewer


@page
async def home(request: Request, who: Viewer) -> Response:
    qp = request.query_params

    def load() -> dict:
        with session_scope(request.app.state.engine) as db:
            area = area_choice.chosen(db, who.scope, qp.get("area"))
            return {
                "area": area,
                "choices": area_choice.choices(db, who.scope),
                "view": overview(db, area, qp.get("cycle"), today()),
            }

    return render(request, "home.html", await run_in_threadpool(load), who=who)


routes = [Route("/", home)]
