"""Assessment cycles (考核周期): one county's year of inspections. A county has at most one
current cycle: marking a new one current unmarks the others, in the same transaction, and
every cycle row that changes is stamped so phones pull it."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from server.errors import BadRequest, NotFound
from server.models import Area, Cycle
from server.services import audit
from server.services.changes import stamp


def county_by_code(session: Session, code: str) -> Area:
    """The county with this code; an unknown code, or one of another level, says which."""
    from server.services.areas import AreaError, county_area

    try:
        return county_area(session, code)
    except AreaError as exc:
        raise NotFound(exc.problem.key, **exc.problem.params) from None


def add_cycle(
    session: Session,
    county_code: str,
    name: str,
    start: date,
    end: date,
    *,
    current: bool = False,
    by: int | None = None,
    via: str = "cli",
) -> Cycle:
    name = name.strip()
    if not 0 < len(name) <= 128:
        raise BadRequest("error.bad_cycle_name", field="name")
    if end < start:
        raise BadRequest("error.end_before_start", field="end")
    county = county_by_code(session, county_code)
    if current:
        for old in session.exec(
            select(Cycle).where(Cycle.county_id == county.id, Cycle.current.is_(True))  # type: ignore[attr-defined]
        ):
            old.current = False
            stamp(session, old)
    cycle = Cycle(
        name=name,
        year=start.year,
        start_date=start,
        end_date=end,
        county_id=county.id,  # type: ignore[arg-type]
        current=current,
    )
    stamp(session, cycle)
    session.flush()
    audit.record(
        session,
        "cycle.add",
        user_id=by,
        target_type="cycle",
        target_id=cycle.id or "",
        detail={"via": via, "name": name, "current": current},
    )
    return cycle
