"""Loading a cycle's rows for the pure roll-up in server.domain.rollup: the independent
reference the summaries (services/summaries.py) and the overview are tested against."""

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
