"""An area and everything below it, read once per request (a province: ~1,600 rows in three
queries), so figures can be summed up the tree in Python instead of one query per area."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from server.models import Area


@dataclass
class AreaTree:
    root: Area
    areas: dict[int, Area]
    children: dict[int, list[Area]]
    county_of_root: Area | None  # a township's county (cycles belong to counties)

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
    frontier = [root.id]
    while frontier:
        found = session.exec(
            select(Area).where(Area.parent_id.in_(frontier)).order_by(Area.code)  # type: ignore[union-attr]
        ).all()
        frontier = []
        for a in found:
            if a.id in areas:
                continue
            areas[a.id] = a
            children.setdefault(a.parent_id, []).append(a)  # type: ignore[arg-type]
            frontier.append(a.id)
    county = None
    if root.level == "township" and root.parent_id is not None:
        county = session.get(Area, root.parent_id)
    return AreaTree(root, areas, children, county)  # type: ignore[arg-type]
