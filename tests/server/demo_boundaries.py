"""Township boundaries for the demo, made up for the tests and screenshots: each township's
Voronoi cell around the mean position of its points, clipped to the box around them all.
Real boundaries come from the county (admin upload); these only need to tile the county
without overlapping, so a click lands on one township."""

from __future__ import annotations

from statistics import mean

from sqlmodel import select

from server.db import session_scope
from server.models import Area, ServicePoint

Point = tuple[float, float]


def _clip(poly: list[Point], a: Point, b: Point) -> list[Point]:
    """The part of a convex polygon nearer to a than to b (Sutherland-Hodgman, one edge)."""
    mx, my = (a[0] + b[0]) / 2, (a[1] + b[1]) / 2
    nx, ny = b[0] - a[0], b[1] - a[1]

    def side(p: Point) -> float:
        return (p[0] - mx) * nx + (p[1] - my) * ny

    out: list[Point] = []
    for i, p in enumerate(poly):
        q = poly[(i + 1) % len(poly)]
        sp, sq = side(p), side(q)
        if sp <= 0:
            out.append(p)
        if sp * sq < 0:
            t = sp / (sp - sq)
            out.append((p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])))
    return out


def demo_boundaries(engine, county: str = "610424") -> dict:
    """A FeatureCollection with one Polygon per township of the county that has points."""
    with session_scope(engine) as s:
        rows = s.exec(
            select(Area.code, ServicePoint.lon, ServicePoint.lat)
            .join(ServicePoint, ServicePoint.township_id == Area.id)
            .where(Area.code.startswith(county), ServicePoint.lat.is_not(None))
        ).all()
    by_town: dict[str, list[Point]] = {}
    for code, lon, lat in rows:
        by_town.setdefault(code, []).append((lon, lat))
    seeds = {c: (mean(p[0] for p in ps), mean(p[1] for p in ps)) for c, ps in by_town.items()}
    xs = [p[0] for ps in by_town.values() for p in ps]
    ys = [p[1] for ps in by_town.values() for p in ps]
    x0, x1, y0, y1 = min(xs) - 0.03, max(xs) + 0.03, min(ys) - 0.03, max(ys) + 0.03
    features = []
    for code, seed in sorted(seeds.items()):
        cell = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
        for other, there in seeds.items():
            if other != code:
                cell = _clip(cell, seed, there)
        ring = [[round(x, 5), round(y, 5)] for x, y in cell]
        features.append(
            {
                "type": "Feature",
                "properties": {"code": code},
                "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
            }
        )
    return {"type": "FeatureCollection", "features": features}
