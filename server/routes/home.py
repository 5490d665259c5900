"""The landing page: the county's coverage and ratings for the latest cycle with data."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.db import session_scope
from server.pages.guard import current_viewer
from server.pages.render import render
from server.services.rollups import latest_with_data


async def home(request: Request) -> Response:
    def load() -> dict:
        with session_scope(request.app.state.engine) as db:
            county, cycle, rollup = latest_with_data(db)
        return {"county": county, "cycle": cycle, "rollup": rollup}

    context = await run_in_threadpool(load)
    return render(request, "home.html", context, who=await current_viewer(request))


routes = [Route("/", home)]
