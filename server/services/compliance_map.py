"""The township compliance map's data: one GeoJSON FeatureCollection per area and cycle.

Townships with a loaded boundary are polygons filled by their 达标率 class, with a no-data
colour for a township nobody inspected yet; every active service point with coordinates is
a marker coloured by its rating, 未检查 included. Colours, class breaks and the words a
tooltip shows are decided here, once, in the reader's language: the page's script only
draws what it is given, and the legend beside the map is rendered from the same classes.

Speed: township figures come from their `area_summary` rows, points from one column-only
query joined to `point_summary`; no inspection row is read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, select

from server.i18n import translator
from server.models import Area, AreaBoundary, AreaSummary, PointSummary, ServicePoint
from server.pages.format import percent
from server.services.area_tree import area_tree
from server.services.cycle_choice import choose
from server.services.overview import Figures, Table

SP = ServicePoint.__table__  # type: ignore[attr-defined]
PS = PointSummary.__table__  # type: ignore[attr-defined]
# area id -> (the boundary's updated_at, its geometry as JSON): a boundary changes only when
# uploaded again, so its encoding is kept between requests.
_shapes: dict[int, tuple[Any, str]] = {}


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


def map_data(session: Session, area: Area, requested_cycle: str | None, lang: str) -> bytes:
    """The GeoJSON of `area` (in the viewer's scope) in a cycle, in the reader's language,
    ready to send.

    Shaped for a province (1,500 townships, 20,000 points) in well under 100 ms: points come
    as one MultiPoint feature per rating with their codes, names and township (an index into
    `township_names`) in parallel arrays, instead of 20,000 features; a boundary is encoded
    once per upload and kept (`_shapes`), since it changes only when uploaded again."""
    _ = translator(lang)
    tree = area_tree(session, area)
    choice = choose(session, tree.counties(), requested_cycle)
    towns = tree.townships()
    town_ids = [t.id for t in towns]
    index = {t.id: n for n, t in enumerate(towns)}
    figures = {t.id: Figures() for t in towns}
    if choice.ids:
        for area_id, inspected, good, basic in session.exec(
            select(
                AreaSummary.area_id, AreaSummary.inspected, AreaSummary.good, AreaSummary.basic
            ).where(
                AreaSummary.cycle_id.in_(choice.ids),  # type: ignore[attr-defined]
                AreaSummary.area_id.in_(town_ids),  # type: ignore[attr-defined]
            )
        ):
            f = figures[area_id]
            f.inspected, f.good, f.basic = inspected, good, basic
    # Two plain queries, not an outer join: joined, SQLite probes the summary's primary key
    # (cycle, point) once per cycle for every point (3 s for a province); apart, each is a
    # range scan.
    rated: dict[int, str] = {
        point_id: rating
        for point_id, rating in session.connection().execute(
            sa_select(PS.c.point_id, PS.c.rating).where(
                PS.c.cycle_id.in_(choice.ids or [-1]), PS.c.counted
            )
        )
    }
    groups: dict[str, list[tuple]] = {r: [] for r in RATING_COLORS}
    for row in session.connection().execute(
        sa_select(SP.c.code, SP.c.name, SP.c.lon, SP.c.lat, SP.c.township_id, SP.c.id)
        .where(SP.c.active, SP.c.township_id.in_(town_ids))
        .order_by(SP.c.code)
    ):
        figures[row[4]].points += 1
        if row[2] is not None and row[3] is not None:
            groups[rated.get(row[5]) or "none"].append(row)
    parts = _township_features(session, towns, figures, choice.selected, _)
    for rating, rows in groups.items():
        if not rows:
            continue
        codes, names, lons, lats, township_ids, _r = zip(*rows, strict=True)
        feature = {
            "type": "Feature",
            "geometry": {"type": "MultiPoint", "coordinates": list(zip(lons, lats, strict=True))},
            "properties": {
                "kind": "points",
                "rating": rating,
                "color": RATING_COLORS[rating],
                "word": _(f"rating.{rating}"),
                "href": "/point/{code}",
                "codes": codes,
                "names": names,
                "townships": [index[t] for t in township_ids],
            },
        }
        parts.append(_dumps(feature))
    town_names = _dumps([t.name for t in towns])
    return (
        '{"type":"FeatureCollection","township_names":'
        + town_names
        + ',"features":['
        + ",".join(parts)
        + "]}"
    ).encode()


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _township_features(
    session: Session, towns: list[Area], figures: dict, cycle: int | None, _: Any
) -> list[str]:
    """One polygon feature per township with a boundary, filled by its band."""
    ids = [t.id for t in towns]
    stamps = dict(
        session.exec(
            select(AreaBoundary.area_id, AreaBoundary.updated_at).where(
                AreaBoundary.area_id.in_(ids)  # type: ignore[attr-defined]
            )
        ).all()
    )
    stale = [a for a, at in stamps.items() if _shapes.get(a, (None, ""))[0] != at]
    for part in range(0, len(stale), 500):
        for area_id, at, geometry in session.exec(
            select(AreaBoundary.area_id, AreaBoundary.updated_at, AreaBoundary.geometry).where(
                AreaBoundary.area_id.in_(stale[part : part + 500])  # type: ignore[attr-defined]
            )
        ):
            _shapes[area_id] = (at, _dumps(geometry))
    query = "?" + urlencode({"cycle": cycle}) if cycle else ""
    out = []
    for town in towns:
        if town.id not in stamps:
            continue
        f = figures[town.id]
        band = band_of(f.compliance)
        props = {
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
        }
        shape = _shapes[town.id][1]  # type: ignore[index]
        out.append('{"type":"Feature","geometry":' + shape + ',"properties":' + _dumps(props) + "}")
    return out
