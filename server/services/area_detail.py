"""A township's page (and a county's or city's list of the areas below it), read from the
summaries: the director's desk at province scale.

Why from `point_summary`/`area_summary` and never from the inspections: a township page must
answer in well under 100 ms with 200,000 inspections in the database (docs/benchmarks.md).
Every query here is keyed by the township's points or the area's children, all indexed.

Scope: an area outside the viewer's subtree is "not found", never "forbidden" (its existence
is not told), as on the admin pages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from server.db import chunked
from server.domain.templates import Template
from server.errors import NotFound
from server.models import (
    Area,
    AreaSummary,
    Cycle,
    FollowUp,
    PointSummary,
    ServicePoint,
    User,
)
from server.services import cycle_choice
from server.services.cycle_choice import CycleChoice
from server.services.inspections import template_for
from server.services.plans import today
from server.services.scope import Scope

RATINGS = ("good", "basic", "fail", "incomplete")
_unparsable: set[int] = set()


@dataclass
class Figures:
    """What an area counts for in a cycle: the same columns for a township, its points'
    parent county and the rows of a list of child areas."""

    points: int = 0
    inspected: int = 0
    good: int = 0
    basic: int = 0
    fail: int = 0
    incomplete: int = 0
    critical: int = 0
    evidence_pending: int = 0
    followups_open: int = 0
    followups_overdue: int = 0

    @property
    def not_inspected(self) -> int:
        return max(0, self.points - self.inspected)

    @property
    def coverage(self) -> float | None:
        return self.inspected / self.points if self.points else None

    @property
    def ready(self) -> float | None:
        """Share of the active points that would pass today (达标 or 基本达标)."""
        return (self.good + self.basic) / self.points if self.points else None

    def add_summary(self, row: Any) -> None:
        for name in ("inspected", *RATINGS, "critical", "evidence_pending"):
            setattr(self, name, getattr(self, name) + getattr(row, name))


@dataclass(frozen=True)
class FailedItem:
    key: str
    label: Any  # a template Text, or None for an item the version no longer has
    critical: bool
    status: str  # fail | missing
    code: str
    params: dict


@dataclass(frozen=True)
class PointRow:
    point: ServicePoint
    summary: PointSummary | None
    inspector: User | None
    failed: list[FailedItem]
    followups_open: int
    followups_overdue: int


@dataclass(frozen=True)
class ChildRow:
    area: Area
    cycle: Cycle | None
    figures: Figures


@dataclass
class AreaView:
    area: Area
    parents: list[Area]  # from the top of the viewer's tree down to the area's parent
    choice: CycleChoice  # the cycles (a county's) or years (above a county) to choose from
    cycle: Cycle | None  # a township's or county's chosen cycle (None above a county)
    figures: Figures
    points: list[PointRow] = field(default_factory=list)
    children: list[ChildRow] = field(default_factory=list)
    today: date = field(default_factory=today)

    @property
    def days_left(self) -> int | None:
        if self.cycle is None or self.cycle.assessment_date is None:
            return None
        return (self.cycle.assessment_date - self.today).days


def area_in_scope(session: Session, scope: Scope, code: str) -> Area:
    area = session.exec(select(Area).where(Area.code == code.strip())).first()
    if area is None or not scope.covers(area.id):
        raise NotFound("error.area_not_found", area_code=code[:12])
    return area


def county_of(session: Session, area: Area) -> Area | None:
    if area.level == "county":
        return area
    if area.level == "township" and area.parent_id is not None:
        return session.get(Area, area.parent_id)
    return None


def area_view(session: Session, scope: Scope, code: str, cycle: str | None) -> AreaView:
    """A township with its points, or a county (city, province) with the areas below it,
    in the cycle `?cycle=` names (services/cycle_choice.py: the overview's rule)."""
    area = area_in_scope(session, scope, code)
    parents = parents_in_scope(session, scope, area)
    county = county_of(session, area)
    if county is None:
        return _above_county(session, scope, area, parents, cycle)
    choice = cycle_choice.choose(session, [county], cycle)
    chosen = choice.by_county.get(county.id)  # type: ignore[arg-type]
    view = AreaView(area, parents, choice, chosen, Figures())
    if area.level == "township":
        view.points = _point_rows(session, area, chosen, view.today)
        _township_figures(session, view)
    else:
        townships = list(
            session.exec(select(Area).where(Area.parent_id == area.id).order_by(Area.code))
        )
        view.children = _child_rows(
            session, townships, {t.id: chosen for t in townships}, view.today
        )
        for row in view.children:
            _add(view.figures, row.figures)
    return view


def _add(total: Figures, part: Figures) -> None:
    for name in vars(total):
        setattr(total, name, getattr(total, name) + getattr(part, name))


def parents_in_scope(session: Session, scope: Scope, area: Area) -> list[Area]:
    out, parent = [], area.parent_id
    while parent is not None and scope.covers(parent):
        above = session.get(Area, parent)
        if above is None:
            break
        out.append(above)
        parent = above.parent_id
    return out[::-1]


def _point_rows(session: Session, township: Area, cycle: Cycle | None, on: date) -> list[PointRow]:
    points = list(
        session.exec(
            select(ServicePoint)
            .where(ServicePoint.township_id == township.id)
            .order_by(ServicePoint.active.desc(), ServicePoint.code)  # type: ignore[attr-defined]
        )
    )
    ids = [p.id for p in points]
    summaries: dict[int, PointSummary] = {}
    followups: dict[int, list[int]] = {}
    if cycle is not None and ids:
        summaries = {
            s.point_id: s
            for s in session.exec(
                select(PointSummary).where(
                    PointSummary.cycle_id == cycle.id,
                    PointSummary.point_id.in_(ids),  # type: ignore[attr-defined]
                )
            )
        }
    if ids:
        followups = _followups_by(session, FollowUp.point_id, FollowUp.point_id.in_(ids), on)  # type: ignore[attr-defined]
    users = _users(session, {s.inspector_id for s in summaries.values()})
    rows = []
    for p in points:
        s = summaries.get(p.id)  # type: ignore[arg-type]
        open_, overdue = followups.get(p.id, [0, 0])  # type: ignore[arg-type]
        rows.append(
            PointRow(
                p,
                s,
                users.get(s.inspector_id) if s else None,
                failed_items(session, s) if s else [],
                open_,
                overdue,
            )
        )
    return rows


def failed_items(session: Session, s: PointSummary) -> list[FailedItem]:
    """A summary's failed and unanswered items, labelled by the version inspected; critical
    ones first."""
    template = parsed_version(session, s.template_version_id)
    critical = set(s.critical_failed)
    out = []
    for f in s.failed:
        item = _item(template, f["item"])
        out.append(
            FailedItem(
                f["item"],
                item.label if item else None,
                f["item"] in critical,
                f["status"],
                f.get("code", ""),
                f.get("params") or {},
            )
        )
    return sorted(out, key=lambda f: not f.critical)


def parsed_version(session: Session, version_id: int) -> Template | None:
    """The checklist version an inspection used (None if it no longer parses: its items are
    then shown by key). Versions are immutable, so a version that does not parse never
    will: that answer is kept too, or every page would read and parse it again."""
    if version_id in _unparsable:
        return None
    try:
        return template_for(session, version_id)
    except (LookupError, ValueError):
        _unparsable.add(version_id)
        return None


def _item(template: Template | None, key: str):
    if template is None:
        return None
    try:
        return template.item(key)
    except KeyError:
        return None


def _users(session: Session, ids: set[int]) -> dict[int, User]:
    if not ids:
        return {}
    return {u.id: u for u in session.exec(select(User).where(User.id.in_(sorted(ids))))}  # type: ignore[union-attr,misc]


def _followups_by(session: Session, key, where, on: date) -> dict[Any, list[int]]:
    """{key: [open, overdue]} for the open follow-ups matching `where`. A follow-up stays
    open across cycles until a later passing inspection closes it, so no cycle filter."""
    late = FollowUp.due_date < on
    q = select(key, late, func.count()).select_from(FollowUp)
    q = q.where(where, FollowUp.status == "open").group_by(key, late)
    out: dict[Any, list[int]] = {}
    for k, is_late, n in session.exec(q):  # type: ignore[call-overload]
        counts = out.setdefault(k, [0, 0])
        counts[0] += n
        if is_late:
            counts[1] += n
    return out


def _township_figures(session: Session, view: AreaView) -> None:
    fig = view.figures
    fig.points = sum(1 for r in view.points if r.point.active)
    fig.followups_open = sum(r.followups_open for r in view.points)
    fig.followups_overdue = sum(r.followups_overdue for r in view.points)
    if view.cycle is not None:
        row = session.get(AreaSummary, (view.cycle.id, view.area.id))
        if row is not None:
            fig.add_summary(row)


def _child_rows(
    session: Session, areas: list[Area], cycles: dict[Any, Cycle | None], on: date
) -> list[ChildRow]:
    """Figures for each area (townships or counties), each in its own cycle."""
    ids = [a.id for a in areas]
    if not ids:
        return []
    by_township = {a.id: a.id for a in areas}
    if areas[0].level != "township":  # counties: their points sit in their townships
        for tid, parent in session.exec(
            select(Area.id, Area.parent_id).where(Area.parent_id.in_(ids))  # type: ignore[union-attr]
        ):
            by_township[tid] = parent
    # Follow-ups by point id (the (point_id, status) index), summed per area here: a join
    # on the township let SQLite walk every open follow-up of the province (390 ms).
    points: dict[Any, int] = {}
    area_of_point: dict[int, Any] = {}
    for part in chunked(by_township):
        q = select(ServicePoint.id, ServicePoint.township_id, ServicePoint.active).where(
            ServicePoint.township_id.in_(part)  # type: ignore[attr-defined]
        )
        for pid, tid, active in session.exec(q):
            owner = by_township[tid]
            area_of_point[pid] = owner  # type: ignore[index]
            points[owner] = points.get(owner, 0) + bool(active)
    followups: dict[Any, list[int]] = {}
    for part in chunked(area_of_point):
        found = _followups_by(session, FollowUp.point_id, FollowUp.point_id.in_(part), on)  # type: ignore[attr-defined]
        for pid, (open_, late) in found.items():
            counts = followups.setdefault(area_of_point[pid], [0, 0])
            counts[0] += open_
            counts[1] += late
    rows = []
    for area in areas:
        fig = Figures(points=points.get(area.id, 0))
        cycle = cycles.get(area.id)
        if cycle is not None:
            row = session.get(AreaSummary, (cycle.id, area.id))
            if row is not None:
                fig.add_summary(row)
        fig.followups_open, fig.followups_overdue = followups.get(area.id, [0, 0])
        rows.append(ChildRow(area, cycle, fig))
    return rows


def _above_county(
    session: Session, scope: Scope, area: Area, parents: list[Area], cycle: str | None
) -> AreaView:
    """A city or province: each county below it, in its own cycle of the chosen year."""
    ids, frontier = {area.id}, [area.id]
    while frontier:
        frontier = list(session.exec(select(Area.id).where(Area.parent_id.in_(frontier))))  # type: ignore[union-attr]
        ids.update(frontier)
    counties = list(
        session.exec(
            select(Area)
            .where(Area.id.in_(sorted(i for i in ids if scope.covers(i))), Area.level == "county")  # type: ignore[union-attr]
            .order_by(Area.code)
        )
    )
    choice = cycle_choice.choose(session, counties, cycle)
    view = AreaView(area, parents, choice, None, Figures())
    cycles: dict[Any, Cycle | None] = {c.id: choice.by_county.get(c.id) for c in counties}  # type: ignore[arg-type]
    view.children = _child_rows(session, counties, cycles, view.today)
    for row in view.children:
        _add(view.figures, row.figures)
    return view
