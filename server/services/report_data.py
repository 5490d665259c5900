"""What a report reads: which counties and cycles an area and a cycle choice stand for, the
active points there, their summaries, latest inspections and follow-ups.

One cycle belongs to one county. A report for a township or a county takes that county's
cycle (`--cycle ID`, else its current one); a report for a city or province takes each of
its counties' current cycles, so a city with two counties gets one report with both. The
area must lie inside the viewer's scope (the route checks it with `area_choice`), and a
cycle of a county outside the area is refused, never silently swapped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from server.db import chunked as chunks
from server.domain.readiness import FollowUpState, PointState
from server.errors import BadRequest, NotFound
from server.models import Area, Cycle, Inspection, PointSummary, ServicePoint, User
from server.services.inspections import template_for
from server.services.scope import subtree_of


@dataclass
class ReportScope:
    area: Area
    cycles: list[tuple[Area, Cycle]]  # (county, cycle), by county code
    township_ids: frozenset[int]  # the townships reported on

    @property
    def cycle_ids(self) -> list[int]:
        return [c.id for _, c in self.cycles if c.id is not None]

    @property
    def assessment_date(self) -> date | None:
        dates = [c.assessment_date for _, c in self.cycles if c.assessment_date]
        return min(dates) if dates else None


def resolve(session: Session, area: Area, cycle_id: int | None) -> ReportScope:
    """The counties, cycles and townships a report on `area` (and `cycle_id`) covers."""
    counties = _counties(session, area)
    if cycle_id is not None:
        cycle = session.get(Cycle, cycle_id)
        if cycle is None or cycle.county_id not in {c.id for c in counties}:
            raise NotFound("error.report_cycle", code="report_cycle", cycle=cycle_id)
        pairs = [(c, cycle) for c in counties if c.id == cycle.county_id]
    else:
        pairs = []
        for county in counties:
            cycle = _default_cycle(session, county)
            if cycle is not None:
                pairs.append((county, cycle))
        if not pairs:
            raise BadRequest("error.report_no_cycle", code="report_no_cycle", area=area.name)
    if area.level == "township":
        townships = frozenset({area.id}) if area.id is not None else frozenset()
    else:
        townships = frozenset(
            t
            for county, _ in pairs
            for t in session.exec(select(Area.id).where(Area.parent_id == county.id))
            if t is not None
        )
    return ReportScope(area, pairs, townships)


def cycles_for(session: Session, area: Area) -> list[tuple[Area, Cycle]]:
    """Every cycle a report on `area` may pick (the page's cycle choice)."""
    ids = [c.id for c in _counties(session, area)]
    return list(
        session.exec(
            select(Area, Cycle)
            .join(Cycle, Cycle.county_id == Area.id)  # type: ignore[arg-type]
            .where(Area.id.in_(ids))  # type: ignore[union-attr]
            .order_by(Area.code, col(Cycle.year).desc(), col(Cycle.id).desc())
        ).all()
    )


def _counties(session: Session, area: Area) -> list[Area]:
    if area.level == "township":
        county = session.get(Area, area.parent_id) if area.parent_id else None
        return [county] if county is not None else []
    if area.level == "county":
        return [area]
    assert area.id is not None
    ids = sorted(subtree_of(session, area.id))
    return list(
        session.exec(
            select(Area).where(Area.id.in_(ids), Area.level == "county").order_by(Area.code)  # type: ignore[union-attr]
        )
    )


def _default_cycle(session: Session, county: Area) -> Cycle | None:
    return session.exec(
        select(Cycle)
        .where(Cycle.county_id == county.id)
        .order_by(col(Cycle.current).desc(), col(Cycle.year).desc(), col(Cycle.id).desc())
    ).first()


_templates: WeakKeyDictionary[Session, dict[int, Any]] = WeakKeyDictionary()


def template_of(session: Session, version_id: int) -> Any:
    """`inspections.template_for`, remembered for the session: the identity map holds a
    version only weakly, so a report asking 20,000 times would read and decode its content
    20,000 times (measured: 80 of 90 s of a province's readiness)."""
    memo = _templates.setdefault(session, {})
    if version_id not in memo:
        memo[version_id] = template_for(session, version_id)
    return memo[version_id]


@dataclass
class PointRow:
    point: ServicePoint
    township: Area
    county: Area
    cycle: Cycle
    summary: PointSummary | None


def points(session: Session, scope: ReportScope) -> list[PointRow]:
    """Active points of the reported townships with their summary in their county's cycle,
    by county, township and point code."""
    areas = {a.id: a for a in session.exec(select(Area).where(Area.id.in_(scope.township_ids)))}  # type: ignore[union-attr]
    cycle_of = {county.id: (county, cycle) for county, cycle in scope.cycles}
    rows = []
    for part in chunks(scope.township_ids):
        q = select(ServicePoint).where(
            ServicePoint.township_id.in_(part),  # type: ignore[attr-defined]
            ServicePoint.active,
        )
        for p in session.exec(q):
            township = areas[p.township_id]
            county, cycle = cycle_of[township.parent_id]
            rows.append(PointRow(p, township, county, cycle, None))
    by_key = {(r.point.id, r.cycle.id): r for r in rows}
    for part in chunks(r.point.id for r in rows):
        sq = select(PointSummary).where(
            col(PointSummary.point_id).in_(part),
            col(PointSummary.cycle_id).in_(scope.cycle_ids),
        )
        for s in session.exec(sq):
            row = by_key.get((s.point_id, s.cycle_id))
            if row is not None:
                row.summary = s
    rows.sort(key=lambda r: (r.county.code, r.township.code, r.point.code))
    return rows


def point_state(row: PointRow) -> PointState:
    s = row.summary
    return PointState(
        id=row.point.id or 0,
        code=row.point.code,
        name=row.point.name,
        kind=row.point.kind,
        township_code=row.township.code,
        township_name=row.township.name,
        county_code=row.county.code,
        rating=s.rating if s else None,
        inspection_id=s.inspection_id if s else None,
        submitted_at=s.submitted_at if s else None,
        evidence_complete=s.evidence_complete if s else True,
        failed=tuple(s.failed) if s else (),
        critical_failed=tuple(s.critical_failed) if s else (),
    )


def follow_up_states(rows: list[PointRow]) -> list[FollowUpState]:
    """The follow-ups not yet closed of these points in their cycle, from the summaries
    (services/summaries.py keeps {"due|status": count} per point): no read of every
    follow-up of a province."""
    out: list[FollowUpState] = []
    for r in rows:
        for key, n in (r.summary.follow_ups if r.summary else {}).items():
            day, status = key.split("|")
            due = date.fromisoformat(day)
            out.extend(FollowUpState(r.point.code, "", status, due) for _ in range(n))
    return out


def inspections(session: Session, ids: Iterable[str]) -> dict[str, Inspection]:
    out: dict[str, Inspection] = {}
    for part in chunks(set(ids)):
        for insp in session.exec(select(Inspection).where(Inspection.id.in_(part))):  # type: ignore[attr-defined]
            out[insp.id] = insp
    return out


def user_names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    for part in chunks(set(ids)):
        for u in session.exec(select(User).where(User.id.in_(part))):  # type: ignore[union-attr]
            out[u.id or 0] = u.display_name
    return out


def latest_answers(session: Session, rows: list[PointRow]) -> dict[str, Any]:
    """id -> (id, template_version_id, submitted_at, answers) of each point's latest
    inspection: only what the book needs read (a province's results would not fit)."""
    i = Inspection.__table__.c  # type: ignore[attr-defined]
    out: dict[str, Any] = {}
    ids = {r.summary.inspection_id for r in rows if r.summary}
    for part in chunks(ids):
        q = sa_select(i.id, i.template_version_id, i.submitted_at, i.answers)
        for row in session.execute(q.where(i.id.in_(part))):
            out[row.id] = row
    return out


def latest_inspections(session: Session, rows: list[PointRow]) -> dict[str, Any]:
    return inspections(session, (r.summary.inspection_id for r in rows if r.summary))
