"""The landing page: the county's coverage and ratings for the latest cycle with data."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, select
from starlette.requests import Request
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from server.models import Area, Cycle, Inspection

templates = Jinja2Templates(directory=str(Path(__file__).resolve().parent.parent / "templates"))


async def home(request: Request):
    from server.services.rollups import cycle_rollup  # the domain's roll-up, loaded on use

    with Session(request.app.state.engine) as session:
        county = session.exec(select(Area).where(Area.level == "county")).first()
        cycle = session.exec(
            select(Cycle)
            .join(Inspection, Inspection.cycle_id == Cycle.id)
            .where(Inspection.status == "submitted")
            .order_by(Cycle.year.desc())
        ).first()
        rollup = cycle_rollup(session, cycle) if cycle else None
    return templates.TemplateResponse(
        request, "home.html", {"county": county, "cycle": cycle, "rollup": rollup}
    )


routes = [Route("/", home)]
