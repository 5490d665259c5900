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
    assessment: date | None = None,
    by: int | None = None,
    via: str = "cli",
) -> Cycle:
    name = name.strip()
    if not 0 < len(name) <= 128:
        raise BadRequest("error.bad_cycle_name", field="name")
    if end < start:
        raise BadRequest("error.end_before_start", field="end")
    if assessment is not None and assessment < start:
        raise BadRequest("error.assessment_before_start", field="assessment_date")
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
        assessment_date=assessment,
    )
    stamp(session, cycle)
    session.flush()
    audit.record(
        session,
        "cycle.add",
        user_id=by,
        target_type="cycle",
        target_id=cycle.id or "",
        area_id=county.id,
        detail={"via": via, "name": name, "current": current},
    )
    return cycle


def cycles_here(session: Session, scope) -> list[tuple[Cycle, Area]]:
    """The cycles of the counties in a scope, newest first within each county."""
    return list(
        session.exec(
            select(Cycle, Area)
            .join(Area, Area.id == Cycle.county_id)  # type: ignore[arg-type]
            .where(Cycle.county_id.in_(scope.areas()))  # type: ignore[attr-defined]
            .order_by(Area.code, Cycle.year.desc(), Cycle.id.desc())  # type: ignore[attr-defined]
        ).all()
    )


def update_cycle(
    session: Session, scope, cycle_id: int, *, current: bool, assessment: date | None, by: int
) -> dict:
    """Make a cycle its county's current one and/or set its assessment date (考核日期);
    returns what changed (nothing changed: nothing written)."""
    cycle = session.get(Cycle, cycle_id)
    if cycle is None or not scope.covers(cycle.county_id):
        raise NotFound("error.cycle_not_found")
    if assessment is not None and assessment < cycle.start_date:
        raise BadRequest("error.assessment_before_start", field="assessment_date")
    changes: dict = {}
    touched: list[Cycle] = []
    if current and not cycle.current:
        for old in session.exec(
            select(Cycle).where(Cycle.county_id == cycle.county_id, Cycle.current.is_(True))  # type: ignore[attr-defined]
        ):
            old.current = False
            touched.append(old)
        cycle.current = True
        changes["current"] = True
    if assessment != cycle.assessment_date:
        changes["assessment_date"] = [
            d.isoformat() if d else None for d in (cycle.assessment_date, assessment)
        ]
        cycle.assessment_date = assessment
    if changes:
        stamp(session, *touched, cycle)
        audit.record(
            session,
            "cycle.update",
            user_id=by,
            target_type="cycle",
            target_id=cycle.id or "",
            area_id=cycle.county_id,
            detail={"via": "web", "name": cycle.name, **changes},
        )
    return changes
