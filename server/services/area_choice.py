"""Which area a page is about: the viewer chooses one within their scope (`?area=CODE`).

Every office page that shows figures takes the area this way, so a city or province library
running several counties never sees "the first county" by accident. The choices are the
viewer's own area and every province, city and county below it; a township supervisor
chooses only their township. Without a choice, or with one outside the scope, the page is
about the viewer's own area.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from server.models import Area
from server.services.scope import Scope

CHOOSABLE = ("province", "city", "county")


@dataclass(frozen=True)
class Choice:
    area: Area
    depth: int  # below the viewer's own area, for indenting the list


def choices(session: Session, scope: Scope) -> list[Choice]:
    # by level, not by the scope's ids: a province's scope lists 1,611 areas, its choices 111
    choosable = Area.level.in_(CHOOSABLE) | (Area.id == scope.area_id)  # type: ignore[attr-defined]
    areas = {
        a.id: a
        for a in session.exec(select(Area).where(choosable).order_by(Area.code))
        if scope.covers(a.id)
    }
    out = []
    for area in areas.values():
        if area.id != scope.area_id and area.level not in CHOOSABLE:
            continue
        depth, parent = 0, area.parent_id
        while area.id != scope.area_id and parent in areas:
            depth += 1
            if parent == scope.area_id:
                break
            parent = areas[parent].parent_id
        out.append(Choice(area, depth))
    return out


def chosen(session: Session, scope: Scope, code: str | None) -> Area:
    """The area asked for when it is in scope, else the viewer's own area."""
    if code:
        area = session.exec(select(Area).where(Area.code == code.strip())).first()
        if area is not None and scope.covers(area.id):
            return area
    area = session.get(Area, scope.area_id)
    assert area is not None
    return area
