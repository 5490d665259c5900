"""The landing page: the county's coverage and ratings for the latest cycle with data."""

from __future__ import annotations

from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.routing import Route

from server.models import Area, Cycle, Inspection
from server.routes.web_auth import current_viewer, render
from server.services.rollups import cycle_rollup


async def home(request: Request):
    def load() -> dict:
        with Session(request.app.state.engine) as session:
            county = session.exec(select(Area).where(Area.level == "county")).first()
            cycle = session.exec(
                select(Cycle)
                .join(Inspection, Inspection.cycle_id == Cycle.id)
                .where(Inspection.status == "submitted")
                .order_by(Cycle.year.desc())
            ).first()
            rollup = cycle_rollup(session, cycle) if cycle else None
        return {"county": county, "cycle": cycle, "rollup": rollup}

    context = await run_in_threadpool(load)
    return render(request, "home.html", context, who=await current_viewer(request))


routes = [Route("/", home)]
