"""Township boundaries from a GeoJSON file: every feature checked, then all stored or none.

A feature names its township by a division code in its properties (`code`, `adcode`, 区划代码
…; 9 or 12 digits), which must be a township in the uploader's scope; its geometry must be a
Polygon or MultiPolygon of closed rings of [lon, lat] inside China. Every problem is listed
with its feature number, as the register import does with rows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlmodel import Session, select

from server.domain.divisions import DivisionError, parse_code
from server.domain.geo import bbox, in_china
from server.domain.numbers import real
from server.models import Area, AreaBoundary
from server.models._base import utcnow
from server.services import audit
from server.services.admin_rights import Rights
from server.services.problems import ImportFileError, Problem

CODE_KEYS = ("code", "adcode", "区划代码", "统计用区划代码", "xzqdm", "XZQDM", "CODE", "gb", "GB")
MAX_POINTS = 200_000  # vertices per file: a county's townships at survey detail fit easily


@dataclass
class BoundaryReport:
    problems: list[Problem] = field(default_factory=list)
    stored: list[Area] = field(default_factory=list)
    written: bool = False


def _code_of(props: dict) -> str:
    for key in CODE_KEYS:
        value = props.get(key)
        if value not in (None, ""):
            return str(value)
    return ""


def _ring_problem(ring) -> str | None:
    if not isinstance(ring, list) or len(ring) < 4:
        return "import.geo_ring_short"
    for pt in ring:
        if not isinstance(pt, list) or len(pt) < 2 or not all(real(v) for v in pt[:2]):
            return "import.geo_bad_position"
        if not in_china(pt[1], pt[0]):
            return "import.geo_outside_china"
    if ring[0][:2] != ring[-1][:2]:
        return "import.geo_ring_open"
    return None


def _geometry_problem(geometry) -> tuple[str | None, int]:
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        return "import.geo_not_polygon", 0
    coords = geometry.get("coordinates")
    polygons = [coords] if geometry["type"] == "Polygon" else coords
    if not isinstance(polygons, list) or not polygons:
        return "import.geo_not_polygon", 0
    count = 0
    for rings in polygons:
        if not isinstance(rings, list) or not rings:
            return "import.geo_not_polygon", 0
        for ring in rings:
            if (key := _ring_problem(ring)) is not None:
                return key, 0
            count += len(ring)
    return None, count


def upload_boundaries(
    session: Session, rights: Rights, data: bytes, *, filename: str = ""
) -> BoundaryReport:
    rights.require("areas")
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ImportFileError("import.geo_not_json", detail=str(exc)[:120]) from None
    features = doc.get("features") if isinstance(doc, dict) else None
    if isinstance(doc, dict) and doc.get("type") == "Feature":
        features = [doc]
    if not isinstance(features, list) or not features:
        raise ImportFileError("import.geo_no_features")
    townships = {
        a.code: a
        for a in session.exec(
            select(Area).where(Area.level == "township", Area.id.in_(rights.scope.areas()))
        )
    }
    report = BoundaryReport()
    seen: dict[str, int] = {}
    good: list[tuple[Area, dict]] = []
    vertices = 0
    for n, feature in enumerate(features, start=1):
        props = feature.get("properties") if isinstance(feature, dict) else None
        props = props if isinstance(props, dict) else {}
        raw = _code_of(props)
        problems: list[tuple[str, str, dict]] = []
        area = None
        if not raw:
            problems.append(("code", "import.geo_no_code", {"keys": "code / adcode / 区划代码"}))
        else:
            try:
                division = parse_code(raw)
            except DivisionError as exc:
                problems.append(("code", f"import.{exc.reason}", {"area_code": exc.code}))
            else:
                area = townships.get(division.code)
                if area is None:
                    problems.append(("code", "import.geo_not_township", {"code": division.code}))
                elif division.code in seen:
                    problems.append(
                        ("code", "import.duplicate_code", {"other": seen[division.code]})
                    )
                else:
                    seen[division.code] = n
        key, count = _geometry_problem(
            feature.get("geometry") if isinstance(feature, dict) else None
        )
        vertices += count
        if key is not None:
            problems.append(("geometry", key, {}))
        for fld, k, params in problems:
            report.problems.append(Problem(n, fld, k, params))
        if not problems and area is not None:
            good.append((area, feature["geometry"]))
    if vertices > MAX_POINTS:
        report.problems.append(
            Problem(0, "", "import.geo_too_big", {"n": vertices, "max": MAX_POINTS})
        )
    if report.problems:
        return report
    for area, geometry in good:
        min_lon, min_lat, max_lon, max_lat = bbox(geometry)
        row = session.get(AreaBoundary, area.id) or AreaBoundary(
            area_id=area.id, geometry={}, min_lon=0, min_lat=0, max_lon=0, max_lat=0
        )
        row.geometry = {"type": geometry["type"], "coordinates": geometry["coordinates"]}
        row.min_lon, row.min_lat, row.max_lon, row.max_lat = min_lon, min_lat, max_lon, max_lat
        row.updated_at, row.updated_by = utcnow(), rights.scope.user_id
        session.add(row)
        report.stored.append(area)
    audit.record(
        session,
        "area.boundaries",
        user_id=rights.scope.user_id,
        target_type="file",
        target_id=filename[:64],
        area_id=rights.scope.area_id,
        detail={"townships": [a.code for a in report.stored]},
    )
    report.written = True
    return report
