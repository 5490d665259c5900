"""The list behind a number of the overview: the service points of an area in a cycle,
filtered by rating, a checklist item not passed, a critical failure or an inspector.

It reads `point_summary` (one row per point and cycle, kept by services/summaries.py), so
the list always agrees with the figure it was opened from: both count the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, func
from sqlmodel import Session, select

from server.domain.summary import RATING_CODES
from server.domain.templates import Text
from server.models import Area, ChecklistTemplate, PointSummary, ServicePoint, User
from server.services.area_tree import area_tree
from server.services.checklist_labels import checklist
from server.services.cycle_choice import CycleChoice, choose

RATINGS = (*RATING_CODES, "none", "inspected")
PER_PAGE = 50


@dataclass(frozen=True)
class Filters:
    rating: str = ""  # one of RATINGS, or "" for every active point
    item: str = ""  # a checklist item key: points where it failed (blank is not inspected)
    template: str = ""  # a checklist (village_point, township_branch): its points only
    critical: bool = False
    inspector: int | None = None

    @classmethod
    def parse(cls, params) -> Filters:
        """From the query string; anything not understood is dropped, never an error."""
        rating = params.get("rating", "")
        inspector = params.get("inspector", "")
        return cls(
            rating=rating if rating in RATINGS else "",
            item=params.get("item", "")[:64],
            template=params.get("template", "")[:64],
            critical=params.get("critical") == "1",
            inspector=int(inspector) if inspector.isdigit() else None,
        )

    def query(self) -> dict[str, str]:
        """The filters as query parameters (for links that keep them)."""
        out = {"rating": self.rating, "item": self.item, "template": self.template}
        out["critical"] = "1" if self.critical else ""
        if self.inspector is not None:
            out["inspector"] = str(self.inspector)
        return {k: v for k, v in out.items() if v}


@dataclass
class Entry:
    point: ServicePoint
    township: Area
    summary: PointSummary | None
    inspector: User | None

    @property
    def item_status(self) -> dict[str, str]:
        return self.summary.items if self.summary else {}


@dataclass
class PointPage:
    area: Area
    choice: CycleChoice
    filters: Filters
    entries: list[Entry]
    total: int
    page: int
    pages: int
    item_label: Text | None = None  # the filtered item's name, when there is one


def point_list(
    session: Session, area: Area, cycle: str | None, filters: Filters, page: int = 1
) -> PointPage:
    """One page of the points of `area` (in the viewer's scope) matching the filters."""
    tree = area_tree(session, area)
    choice = choose(session, tree.counties(), cycle)
    towns = {t.id: t for t in tree.townships()}
    on_cycle = and_(
        PointSummary.point_id == ServicePoint.id,
        PointSummary.cycle_id.in_(choice.ids or [-1]),  # type: ignore[attr-defined]
    )
    q = (
        select(ServicePoint, PointSummary)
        .outerjoin(PointSummary, on_cycle)
        .where(ServicePoint.active, ServicePoint.township_id.in_(list(towns)))  # type: ignore[attr-defined]
    )
    f = filters
    if f.rating == "none":
        q = q.where(PointSummary.point_id.is_(None))  # type: ignore[attr-defined]
    elif f.rating or f.item or f.template or f.critical or f.inspector is not None:
        q = q.where(PointSummary.point_id.is_not(None), PointSummary.counted)  # type: ignore[attr-defined]
    if f.rating in RATING_CODES:
        q = q.where(PointSummary.rating == f.rating)
    if f.critical:
        q = q.where(PointSummary.critical_count > 0)
    if f.template:
        q = q.where(PointSummary.template_key == f.template)
    if f.inspector is not None:
        q = q.where(PointSummary.inspector_id == f.inspector)
    if f.item:
        q = q.where(PointSummary.failed_count > 0)
    q = q.order_by(ServicePoint.code)
    if f.item:
        # The item's status sits in a JSON map: filtered here, after the SQL narrowed it down
        # to points with a failed item.
        rows = [(p, s) for p, s in session.exec(q) if s and s.items.get(f.item) == "f"]
        total = len(rows)
        rows = rows[(page - 1) * PER_PAGE : page * PER_PAGE]
    else:
        total = session.exec(select(func.count()).select_from(q.subquery())).one()
        rows = list(session.exec(q.offset((page - 1) * PER_PAGE).limit(PER_PAGE)))
    users = {
        u.id: u
        for u in session.exec(
            select(User).where(User.id.in_({s.inspector_id for _, s in rows if s}))  # type: ignore[union-attr]
        )
    }
    entries = [
        Entry(p, towns[p.township_id], s, users.get(s.inspector_id) if s else None) for p, s in rows
    ]
    label = None
    if f.item:
        county = tree.counties()[0].id if choice.single and tree.counties() else None
        for key in session.exec(select(ChecklistTemplate.key).order_by(ChecklistTemplate.key)):
            template = checklist(session, key, county)
            item = next((i for i in template.items if i.key == f.item), None) if template else None
            if item is not None:
                label = item.label
                break
    pages = max(1, -(-total // PER_PAGE))
    return PointPage(area, choice, filters, entries, total, page, pages, label)
