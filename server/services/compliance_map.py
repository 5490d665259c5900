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
import math
from dataclasses import dataclass
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import String, func
from sqlalchemy import cast as sa_cast
from sqlalchemy import select as sa_select
from sqlmodel import Session, select

from server.db import CHUNK, chunked
from server.i18n import translator
from server.models import (
    Area,
    AreaBoundary,
    AreaSummary,
    PointSummary,
    ServicePoint,
)
from server.pages.format import percent
from server.services.area_tree import area_tree
from server.services.cycle_choice import choose
from server.services.desk_cache import kept, points_version
from server.services.overview import Figures, Table

SP = ServicePoint.__table__  # type: ignore[attr-defined]
PS = PointSummary.__table__  # type: ignore[attr-defined]
AS = AreaSummary.__table__  # type: ignore[attr-defined]
AR = Area.__table__  # type: ignore[attr-defined]
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
    """The GeoJSON of `area` in a cycle and language, kept while nothing it shows has
    changed (services/desk_cache.py), else built (`build_map_data`)."""
    key = ("map", area.id, requested_cycle or "", lang)
    return kept(session, key, lambda: build_map_data(session, area, requested_cycle, lang))


def build_map_data(session: Session, area: Area, requested_cycle: str | None, lang: str) -> bytes:
    """The GeoJSON of `area` (in the viewer's scope) in a cycle, in the reader's language,
    ready to send.

    Shaped for a province (1,500 townships, 20,000 points): points come as one MultiPoint
    feature per rating with their codes, names and township (an index into
    `township_names`) in parallel arrays, instead of 20,000 features; a boundary is encoded
    once per upload and kept (`_shapes`). What does not change when an inspection arrives
    (the points, their names and places: `PointLayer`) is read and encoded once and kept
    until a point or an area changes; each build reads only the ratings and the townships'
    figures, and joins the encoded pieces by rating."""
    _ = translator(lang)
    tree = area_tree(session, area)
    choice = choose(session, tree.counties(), requested_cycle)
    cycles = choice.ids or [-1]
    conn = session.connection()
    # every edit of a point or an area stamps its seq: no age bound needed (a province's
    # layer costs ~115 ms of CPU to build, which every map would pay once a minute)
    layer = kept(
        session,
        ("points", area.id),
        lambda: _point_layer(session, area, tree),
        points_version,
        max_age=None,
    )
    figures = {t[0]: Figures(points=layer.counts.get(t[0], 0)) for t in layer.towns}
    for area_id, inspected, good, basic in conn.execute(
        sa_select(AS.c.area_id, AS.c.inspected, AS.c.good, AS.c.basic).where(
            AS.c.cycle_id.in_(cycles)
        )
    ):
        f = figures.get(area_id)
        if f is not None:  # a township here (the cycles' county rows are read too)
            f.inspected, f.good, f.basic = inspected, good, basic
    rated = _ratings(conn, cycles)
    groups: dict[str, list[int]] = {r: [] for r in RATING_COLORS}
    for n, point_id in enumerate(layer.ids):
        groups[rated.get(point_id) or "none"].append(n)
    parts = _township_features(session, layer.towns, figures, choice.selected, _)
    for rating, members in groups.items():
        if not members:
            continue
        parts.append(
            '{"type":"Feature","geometry":{"type":"MultiPoint","coordinates":['
            + ",".join([layer.coords[n] for n in members])
            + ']},"properties":{"kind":"points","rating":'
            + _dumps(rating)
            + ',"color":'
            + _dumps(RATING_COLORS[rating])
            + ',"word":'
            + _dumps(_(f"rating.{rating}"))
            + ',"href":"/point/{code}","codes":['
            + ",".join([layer.codes[n] for n in members])
            + '],"names":['
            + ",".join([layer.names[n] for n in members])
            + '],"townships":['
            + ",".join([layer.where[n] for n in members])
            + "]}}"
        )
    return (
        '{"type":"FeatureCollection","township_names":'
        + layer.town_names
        + ',"features":['
        + ",".join(parts)
        + "]}"
    ).encode()


def _ratings(conn: Any, cycles: list[int]) -> dict[int, str]:
    """{point id: rating} of the counted summaries of these cycles.

    Apart from the points, not joined: joined, SQLite probes the summary's primary key
    (cycle, point) once per cycle for every point (3 s for a province); apart, it is a range
    scan of a covering index (migration 0011). One row per rating, its point ids joined
    into one string, not 20,000 rows: each row is an object the garbage collector counts,
    and 20,000 of them set off full collections that doubled the p95 of a build."""
    ids = PS.c.point_id
    if conn.dialect.name == "postgresql":
        joined = func.string_agg(sa_cast(ids, String), ",")
    else:
        joined = func.group_concat(ids, ",")
    out: dict[int, str] = {}
    for rating, text in conn.execute(
        sa_select(PS.c.rating, joined)
        .where(PS.c.cycle_id.in_(cycles), PS.c.counted)
        .group_by(PS.c.rating)
    ):
        if text:
            out.update(dict.fromkeys(map(int, text.split(",")), rating))
    return out


@dataclass(frozen=True)
class PointLayer:
    """The active points of an area with a position, in code order, each field already
    encoded as JSON (parallel lists), the townships (id, code, name) and active points per
    township. Kept while no point or area changes (services/desk_cache.py)."""

    towns: list[Any]
    town_names: str
    counts: dict[int, int]
    ids: list[int]
    codes: list[str]
    names: list[str]
    coords: list[str]
    where: list[str]


def _point_layer(session: Session, area: Area, tree: Any) -> PointLayer:
    """Above a county, the townships and points are found through their counties (a join on
    the area table), not through an IN list of 1,500 township ids."""
    conn = session.connection()
    towns: list[Any]  # (id, code, name) of each township
    if area.level not in ("county", "township"):
        counties = [c.id for c in tree.counties()]
        towns = list(
            conn.execute(
                sa_select(AR.c.id, AR.c.code, AR.c.name)
                .where(AR.c.parent_id.in_(counties or [-1]), AR.c.level == "township")
                .order_by(AR.c.code)
            )
        )
        town = SP.join(AR, AR.c.id == SP.c.township_id)
        points_here = AR.c.parent_id.in_(counties or [-1]) & (AR.c.level == "township")
    else:
        towns = [(t.id, t.code, t.name) for t in tree.townships()]
        town = SP
        points_here = SP.c.township_id.in_([t[0] for t in towns] or [-1])
    index = {t[0]: str(n) for n, t in enumerate(towns)}
    counts: dict[int, int] = {}
    layer = PointLayer(list(towns), _dumps([t[2] for t in towns]), counts, [], [], [], [], [])
    text = encode_basestring  # the C encoder json.dumps uses (ensure_ascii=False)
    for code, name, lon, lat, township_id, point_id in conn.execute(
        sa_select(SP.c.code, SP.c.name, SP.c.lon, SP.c.lat, SP.c.township_id, SP.c.id)
        .select_from(town)
        .where(SP.c.active, points_here)
        .order_by(SP.c.code)
    ):
        counts[township_id] = counts.get(township_id, 0) + 1
        if lon is not None and lat is not None:
            layer.ids.append(point_id)
            layer.codes.append(text(code))
            layer.names.append(text(name))
            layer.coords.append(f"[{_number(lon)},{_number(lat)}]")
            layer.where.append(index[township_id])
    return layer


def _number(value: float) -> str:
    """A coordinate as json.dumps writes it."""
    return float.__repr__(float(value)) if math.isfinite(value) else _dumps(value)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _township_features(
    session: Session, towns: list[Any], figures: dict, cycle: int | None, _: Any
) -> list[str]:
    """One polygon feature per township with a boundary, filled by its band. `towns`:
    (id, code, name) of each township."""
    ids = [t[0] for t in towns]
    q = select(AreaBoundary.area_id, AreaBoundary.updated_at)
    if len(ids) <= CHUNK:
        q = q.where(AreaBoundary.area_id.in_(ids))  # type: ignore[attr-defined]
    # else every boundary's stamp (a province's few thousand), kept for these townships
    wanted = set(ids)
    stamps = {a: at for a, at in session.exec(q) if a in wanted}
    stale = [a for a, at in stamps.items() if _shapes.get(a, (None, ""))[0] != at]
    for part in chunked(stale):
        for area_id, at, geometry in session.exec(
            select(AreaBoundary.area_id, AreaBoundary.updated_at, AreaBoundary.geometry).where(
                AreaBoundary.area_id.in_(part)  # type: ignore[attr-defined]
            )
        ):
            _shapes[area_id] = (at, _dumps(geometry))
    query = "?" + urlencode({"cycle": cycle}) if cycle else ""
    out = []
    for town_id, code, name in towns:
        if town_id not in stamps:
            continue
        f = figures[town_id]
        band = band_of(f.compliance)
        props = {
            "kind": "township",
            "code": code,
            "name": name,
            "href": f"/area/{code}{query}",
            "fill": band.color,
            "band": band.key,
            "label": _(
                "map.township_tip",
                name=name,
                rate=percent(f.compliance) if f.compliance is not None else "–",
                inspected=f.inspected,
                points=f.points,
            ),
        }
        shape = _shapes[town_id][1]  # type: ignore[index]
        out.append('{"type":"Feature","geometry":' + shape + ',"properties":' + _dumps(props) + "}")
    return out
