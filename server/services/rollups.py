"""Loading a cycle's rows for the pure roll-up in server.domain.rollup."""

from __future__ import annotations

from sqlmodel import Session, select

from server.domain.rollup import InspectionRow, PointRow, rollup_cycle
from server.models import Area, Cycle, Inspection, ServicePoint


def cycle_rollup(session: Session, cycle: Cycle) -> dict:
    townships = {
        a.id: a for a in session.exec(select(Area).where(Area.parent_id == cycle.county_id))
    }
    points = session.exec(
        select(ServicePoint).where(ServicePoint.township_id.in_(list(townships)))
    ).all()
    rows = [
        PointRow(
            code=p.code,
            name=p.name,
            kind=p.kind,
            township_code=townships[p.township_id].code,
            township_name=townships[p.township_id].name,
            active=p.active,
        )
        for p in points
    ]
    codes = {p.id: p.code for p in points}
    inspections = session.exec(
        select(Inspection).where(Inspection.cycle_id == cycle.id, Inspection.status == "submitted")
    ).all()
    irows = [
        InspectionRow(
            id=i.id,
            point_code=codes[i.point_id],
            status=i.status,
            submitted_at=i.submitted_at,
            result=i.result,
            template_version=i.template_version_id,
        )
        for i in inspections
        if i.point_id in codes
    ]
    return rollup_cycle(rows, irows)


def latest_with_data(session: Session) -> tuple[Area | None, Cycle | None, dict | None]:
    """The landing page's figures: the first county, and the latest cycle that has submitted
    inspections with its roll-up (None when there is none yet)."""
    county = session.exec(select(Area).where(Area.level == "county").order_by(Area.code)).first()
    cycle = session.exec(
        select(Cycle)
        .join(Inspection, Inspection.cycle_id == Cycle.id)  # type: ignore[arg-type]
        .where(Inspection.status == "submitted")
        .order_by(Cycle.year.desc())  # type: ignore[attr-defined]
    ).first()
    return county, cycle, cycle_rollup(session, cycle) if cycle else None


def area_figures(session: Session, area: Area) -> list[tuple[Area, Cycle | None, dict | None]]:
    """For each county in (or above) an area: the county, its cycle (the latest with
    submitted inspections, else its current one) and that cycle's roll-up. A township
    gets its county's figures with only its own row."""
    if area.level == "township":
        county = session.get(Area, area.parent_id) if area.parent_id else None
        counties = [county] if county is not None else []
    elif area.level == "county":
        counties = [area]
    else:
        ids, frontier = {area.id}, [area.id]
        while frontier:
            frontier = list(session.exec(select(Area.id).where(Area.parent_id.in_(frontier))))  # type: ignore[union-attr]
            ids.update(frontier)
        counties = list(
            session.exec(
                select(Area).where(Area.id.in_(ids), Area.level == "county").order_by(Area.code)
            )  # type: ignore[union-attr]
        )
    out = []
    for county in counties:
        cycle = (
            session.exec(
                select(Cycle)
                .join(Inspection, Inspection.cycle_id == Cycle.id)  # type: ignore[arg-type]
                .where(Cycle.county_id == county.id, Inspection.status == "submitted")
                .order_by(Cycle.year.desc())  # type: ignore[attr-defined]
            ).first()
            or session.exec(
                select(Cycle).where(Cycle.county_id == county.id, Cycle.current)
            ).first()
        )
        rollup = cycle_rollup(session, cycle) if cycle else None
        if rollup and area.level == "township":
            rollup["townships"] = [t for t in rollup["townships"] if t["code"] == area.code]
        out.append((county, cycle, rollup))
    return out
