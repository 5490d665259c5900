"""The township compliance map's data: one GeoJSON FeatureCollection per area and cycle.

Townships with a loaded boundary are polygons filled by their 达标率 class, with a no-data
colour for a township nobody inspected yet; every active service point with coordinates is
a marker coloured by its rating, 未检查 included. Colours, class breaks and the words a
tooltip shows are decided here, once, in the reader's language: the page's script only
draws what it is given, and the legend beside the map is rendered from the same classes.

Speed: figures come from the summaries (services/overview.py `table`), points in one
column-only query joined to `point_summary`; no inspection row is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import and_, func
from sqlmodel import Session, select

from server.i18n import translator
from server.models import Area, AreaBoundary, PointSummary, ServicePoint
from server.pages.format import percent
from server.services.overview import Figures, Table, table


@dataclass(frozen=True)
class Band:
    """A class of the choropleth: 达标率 at least `floor` (None: no data)."""

    key: str
    floor: float | None
    color: str


BANDS = (
    Band("high", 0.9, "#1a7f37"),
    Band("good", 0.75, "#74c476"),
    Band("mid", 0.5, "#f2c14e"),
    Band("low", 0.0, "#cf222e"),
)
NO_DATA = Band("nodata", None, "#d0d7de")
RATING_COLORS = {
    "good": "#1a7f37",
    "basic": "#bf8700",
    "fail": "#cf222e",
    "incomplete": "#8250df",
    "none": "#8c959f",
}


def band_of(compliance: float | None) -> Band:
    if compliance is None:
        return NO_DATA
    return next(b for b in BANDS if b.floor is not None and compliance >= b.floor)


def positions(session: Session, t: Table) -> tuple[int, int]:
    """(townships with a boundary, active points without coordinates): what the map page
    says about what it cannot draw."""
    towns = [a.id for a in t.tree.townships()]
    shaped = session.exec(
        select(func.count()).where(AreaBoundary.area_id.in_(towns))  # type: ignore[attr-defined]
    ).one()
    unplaced = session.exec(
        select(func.count()).where(
            ServicePoint.active,
            ServicePoint.township_id.in_(towns),  # type: ignore[attr-defined]
            ServicePoint.lat.is_(None) | ServicePoint.lon.is_(None),  # type: ignore[union-attr]
        )
    ).one()
    return shaped, unplaced


def map_data(
    session: Session, area: Area, requested_cycle: str | None, today: date, lang: str
) -> dict[str, Any]:
    """The GeoJSON of `area` (in the viewer's scope) in a cycle, in the reader's language."""
    t = table(session, area, requested_cycle, today)
    _ = translator(lang)
    cycle = t.choice.selected
    query = "?" + urlencode({"cycle": cycle}) if cycle else ""
    towns = {a.id: a for a in t.tree.townships()}
    features: list[dict[str, Any]] = []
    shapes = session.exec(
        select(AreaBoundary.area_id, AreaBoundary.geometry).where(
            AreaBoundary.area_id.in_(list(towns))  # type: ignore[attr-defined]
        )
    ).all()
    for area_id, geometry in sorted(shapes, key=lambda s: towns[s[0]].code):
        town = towns[area_id]
        f = t.figures.get(area_id, Figures())
        band = band_of(f.compliance)
        features.append(
            {
                "type": "Feature",
                "geometry": geometry,
                "properties": {
                    "kind": "township",
                    "code": town.code,
                    "name": town.name,
                    "href": f"/area/{town.code}{query}",
                    "fill": band.color,
                    "band": band.key,
                    "label": _(
                        "map.township_tip",
                        name=town.name,
                        rate=percent(f.compliance) if f.compliance is not None else "–",
                        inspected=f.inspected,
                        points=f.points,
                    ),
                },
            }
        )
    on_cycle = and_(
        PointSummary.point_id == ServicePoint.id,
        PointSummary.cycle_id.in_(t.choice.ids or [-1]),  # type: ignore[attr-defined]
    )
    rows = session.exec(
        select(
            ServicePoint.code,
            ServicePoint.name,
            ServicePoint.lat,
            ServicePoint.lon,
            ServicePoint.township_id,
            PointSummary.rating,
        )
        .outerjoin(PointSummary, on_cycle)
        .where(ServicePoint.active, ServicePoint.township_id.in_(list(towns)))  # type: ignore[attr-defined]
        .order_by(ServicePoint.code)
    ).all()
    words = {r: _(f"rating.{r}") for r in RATING_COLORS}
    for code, name, lat, lon, township_id, rating in rows:
        if lat is None or lon is None:
            continue
        rating = rating or "none"
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
                "properties": {
                    "kind": "point",
                    "code": code,
                    "name": name,
                    "href": f"/point/{code}",
                    "rating": rating,
                    "color": RATING_COLORS[rating],
                    "label": f"{name} · {towns[township_id].name} · {words[rating]}",
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}
