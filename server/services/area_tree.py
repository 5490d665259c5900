"""An area and everything below it, read once per request, so figures can be summed up the
tree in Python instead of one query per area. Above a county the townships (1,500 of a
province's 1,611 areas) are read only when asked for: the overview of a province sums
counties, and reading 1,500 rows it does not show cost it a third of its time."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, select

from server.models import Area


@dataclass
class AreaTree:
    root: Area
    areas: dict[int, Area]
    children: dict[int, list[Area]]
    county_of_root: Area | None  # a township's county (cycles belong to counties)
    session: Session | None = field(default=None, repr=False)  # reads the townships late

    def _load_townships(self) -> None:
        if self.session is None:
            return
        session, self.session = self.session, None
        counties = [a.id for a in self.areas.values() if a.level == "county"]
        if counties:
            _read_below(session, counties, self.areas, self.children)

    def kids(self, area_id: int) -> list[Area]:
        return self.children.get(area_id, [])

    def below(self, area_id: int, level: str) -> list[Area]:
        """The areas of `level` under (or equal to) an area, by code."""
        out, todo = [], [self.areas[area_id]]
        while todo:
            area = todo.pop()
            if area.level == level:
                out.append(area)
            else:
                todo.extend(self.kids(area.id))  # type: ignore[arg-type]
        return sorted(out, key=lambda a: a.code)

    def townships(self) -> list[Area]:
        self._load_townships()
        return self.below(self.root.id, "township")  # type: ignore[arg-type]

    def counties(self) -> list[Area]:
        """The counties whose cycles count here: below the root, or a township's own."""
        if self.root.level == "township":
            return [self.county_of_root] if self.county_of_root else []
        return self.below(self.root.id, "county")  # type: ignore[arg-type]

    def county_id_of(self, area: Area) -> int | None:
        """The county an area lies in (itself for a county)."""
        while area.level != "county":
            if area.parent_id is None:
                return None
            parent = self.areas.get(area.parent_id) or self.county_of_root
            if parent is None or parent.id != area.parent_id:
                return None
            area = parent
        return area.id

    def rows(self) -> list[Area]:
        """What a table of this area lists: its children, or a township itself."""
        return [self.root] if self.root.level == "township" else self.kids(self.root.id)  # type: ignore[arg-type]


def area_tree(session: Session, root: Area) -> AreaTree:
    areas = {root.id: root}
    children: dict[int, list[Area]] = {}
    late = root.level in ("province", "city")  # townships on demand (`townships()`)
    _read_below(session, [root.id], areas, children, stop_at="county" if late else None)
    county = None
    if root.level == "township" and root.parent_id is not None:
        county = session.get(Area, root.parent_id)
    return AreaTree(root, areas, children, county, session if late else None)  # type: ignore[arg-type]


def _read_below(
    session: Session,
    frontier: list[Any],
    areas: dict[Any, Area],
    children: dict[Any, list[Area]],
    stop_at: str | None = None,
) -> None:
    """Read the areas below `frontier`, level by level, into `areas` and `children`, down
    to the townships (the area table ends there: no query for their children) or to the
    level `stop_at`."""
    while frontier:
        found = session.exec(
            select(Area).where(Area.parent_id.in_(frontier)).order_by(Area.code)  # type: ignore[union-attr]
        ).all()
        frontier = []
        for a in found:
            if a.id in areas:
                continue
            areas[a.id] = a
            children.setdefault(a.parent_id, []).append(a)
            if a.level not in ("township", stop_at):
                frontier.append(a.id)
