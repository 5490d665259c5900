"""Areas from division codes: import a list, add or rename one, list the tree.

Each write stamps the area (services/changes.stamp), so it reaches phones through sync like
every other change; rows written any other way (hand-made SQL) keep seq 0 and never would.
Nothing is written while any row is bad: a half-built hierarchy is worse than none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlmodel import Session, func, select

from server.domain.divisions import DivisionError, parse_code
from server.models import Area, ServicePoint
from server.services.changes import stamp
from server.services.problems import Problem
from server.services.sheets import Sheet, table

NAME_MAX = 64
COLUMNS: dict[str, tuple[str, ...]] = {
    "code": ("code", "统计用区划代码", "区划代码", "行政区划代码", "代码", "编码"),
    "name": ("name", "名称", "区划名称", "单位名称", "地区名称"),
    "lat": ("lat", "纬度", "latitude"),
    "lon": ("lon", "经度", "longitude"),
}
# Columns of the published lists that we do not need: known, so not reported as unknown.
IGNORED = ("序号", "城乡分类代码", "城乡分类", "级别", "层级", "level")
_CODE_AND_NAME = re.compile(r"^(\d{6,12})\s+(\S.*)$")


class AreaError(ValueError):
    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


@dataclass
class AreaRow:
    row: int
    code: str
    name: str
    lat: str = ""
    lon: str = ""


@dataclass
class AreaReport:
    problems: list[Problem] = field(default_factory=list)
    created: list[Area] = field(default_factory=list)
    renamed: list[tuple[Area, str]] = field(default_factory=list)  # (area, old name)
    unchanged: int = 0
    villages_skipped: int = 0
    written: bool = False

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


def rows_from_sheet(sheet: Sheet) -> tuple[list[AreaRow], list[Problem]]:
    """Rows of an area list, with or without a header. The published lists are often
    copied from the web page without one: `610424000000  乾县`."""
    first = next((r for r in sheet.rows if any(r)), [])
    first_cell = first[0] if first else ""
    if first_cell.isdigit() or _CODE_AND_NAME.match(first_cell):
        return _headerless(sheet), list(sheet.problems)
    t = table(sheet, COLUMNS, ("code", "name"), IGNORED)
    rows = [
        AreaRow(n, r.get("code", ""), r.get("name", ""), r.get("lat", ""), r.get("lon", ""))
        for n, r in t.rows
    ]
    return rows, t.problems


def _headerless(sheet: Sheet) -> list[AreaRow]:
    rows = []
    for n, values in enumerate(sheet.rows, start=1):
        cells = [v for v in values if v]
        if not cells:
            continue
        if len(cells) == 1 and (m := _CODE_AND_NAME.match(cells[0])):
            cells = [m.group(1), m.group(2).strip()]
        words = [c for c in cells[1:] if not c.isdigit()]
        rows.append(AreaRow(n, cells[0], words[-1] if words else ""))
    return rows


def import_areas(session: Session, rows: list[AreaRow], problems: list[Problem] | None = None):
    """Create the new areas and rename the changed ones, parents before children; or write
    nothing at all while any row has an error."""
    report = AreaReport(problems=list(problems or []))
    existing = {a.code: a for a in session.exec(select(Area))}
    parsed = _check_rows(rows, existing, report)
    if report.errors:
        return report
    for row, division, lat, lon in sorted(parsed, key=lambda p: p[1].depth):
        area = existing.get(division.code)
        if area is None:
            parent = existing[division.parent] if division.parent else None
            area = Area(
                code=division.code,
                name=row.name,
                level=division.level,
                parent_id=parent.id if parent else None,
                lat=lat,
                lon=lon,
            )
            stamp(session, area)
            session.flush()
            existing[area.code] = area
            report.created.append(area)
        elif area.name != row.name:
            report.renamed.append((area, area.name))
            area.name = row.name
            stamp(session, area)
        else:
            report.unchanged += 1
    session.flush()
    report.written = True
    return report


def _check_rows(rows: list[AreaRow], existing: dict[str, Area], report: AreaReport) -> list:
    parsed = []
    seen: dict[str, int] = {}
    for row in rows:
        bad = _field_problems(row)
        try:
            division = parse_code(row.code)
        except DivisionError as exc:
            bad.append(Problem(row.row, "code", f"import.{exc.reason}", {"area_code": exc.code}))
            division = None
        if division is not None and division.level == "village":
            report.villages_skipped += 1
            continue
        if division is not None and division.code in seen:
            other = seen[division.code]
            bad.append(Problem(row.row, "code", "import.duplicate_code", {"other": other}))
            report.problems.append(
                Problem(other, "code", "import.duplicate_code", {"other": row.row})
            )
        elif division is not None:
            seen[division.code] = row.row
        lat, lon = _coords(row, bad)
        report.problems.extend(bad)
        if not bad and division is not None:
            parsed.append((row, division, lat, lon))
    if report.villages_skipped:
        report.problems.append(
            Problem(0, "", "import.village_code", {"n": report.villages_skipped}, "warning")
        )
    in_file = {d.code for _, d, _, _ in parsed}
    for row, division, _, _ in parsed:
        if division.parent and division.parent not in in_file | existing.keys():
            report.problems.append(
                Problem(row.row, "code", "import.parent_missing", {"parent": division.parent})
            )
    return parsed


def _field_problems(row: AreaRow) -> list[Problem]:
    bad = []
    name = row.name
    if not row.code:
        bad.append(Problem(row.row, "code", "import.required"))
    if not name:
        bad.append(Problem(row.row, "name", "import.required"))
    elif any(ord(ch) < 32 for ch in name + row.code):
        bad.append(Problem(row.row, "name", "import.nul_byte"))
    elif len(name) > NAME_MAX:
        bad.append(
            Problem(row.row, "name", "import.too_long", {"length": len(name), "max": NAME_MAX})
        )
    return bad


def _coords(row: AreaRow, bad: list[Problem]) -> tuple[float | None, float | None]:
    from server.domain.geo import check_position, parse_degrees

    lat, lon = parse_degrees(row.lat), parse_degrees(row.lon)
    for fld, raw, value in (("lat", row.lat, lat), ("lon", row.lon, lon)):
        if raw and value is None:
            bad.append(Problem(row.row, fld, "import.not_a_number", {"value": raw}))
    if (lat is None) != (lon is None):
        bad.append(Problem(row.row, "lat", "import.coords_pair"))
    if lat is not None and lon is not None and (code := check_position(lat, lon)):
        bad.append(Problem(row.row, "lat", f"import.{code}", {"lat": lat, "lon": lon}))
        return None, None
    return lat, lon


def add_area(
    session: Session, code: str, name: str, *, lat: float | None = None, lon: float | None = None
) -> Area:
    """One new area under its parent (which must exist). Raises AreaError."""
    row = AreaRow(
        1, code, name.strip(), "" if lat is None else str(lat), "" if lon is None else str(lon)
    )
    existing = {a.code: a for a in session.exec(select(Area))}
    try:
        division = parse_code(code)
    except DivisionError as exc:
        raise AreaError(
            Problem(0, "code", f"import.{exc.reason}", {"area_code": exc.code})
        ) from None
    if division.code in existing:
        area = existing[division.code]
        raise AreaError(
            Problem(0, "code", "areas.exists", {"area_code": area.code, "name": area.name})
        )
    report = import_areas(session, [row])
    if report.villages_skipped:
        raise AreaError(Problem(0, "code", "areas.village_code", {"area_code": division.code}))
    if report.errors:
        first = report.errors[0]
        raise AreaError(Problem(0, first.field, first.key, first.params))
    return report.created[0]


def rename_area(session: Session, code: str, name: str) -> tuple[Area, str]:
    """Give an area a new name (stamped); returns it and its old name."""
    area = session.exec(select(Area).where(Area.code == code.strip())).first()
    if area is None:
        raise AreaError(Problem(0, "code", "areas.unknown", {"area_code": code}))
    bad = _field_problems(AreaRow(0, area.code, name.strip()))
    if bad:
        raise AreaError(bad[0])
    old = area.name
    if old != name.strip():
        area.name = name.strip()
        stamp(session, area)
        session.flush()
    return area, old


@dataclass
class AreaNode:
    area: Area
    depth: int
    points: int  # active service points in the area's subtree


def area_tree(session: Session, under: str | None = None) -> list[AreaNode]:
    """Every area (or one area's subtree) in code order, each with its depth and the count
    of active service points below it."""
    areas = list(session.exec(select(Area).order_by(Area.code)))
    by_id = {a.id: a for a in areas}
    counts = dict(
        session.exec(
            select(ServicePoint.township_id, func.count())
            .where(ServicePoint.active)
            .group_by(ServicePoint.township_id)
        ).all()
    )
    totals: dict[int | None, int] = {}
    for area in areas:
        n, node = counts.get(area.id, 0), area
        while n and node is not None:
            totals[node.id] = totals.get(node.id, 0) + n
            node = by_id.get(node.parent_id)
    children: dict[int | None, list[Area]] = {}
    for area in areas:
        parent = area.parent_id if area.parent_id in by_id else None
        children.setdefault(parent, []).append(area)
    if under is not None:
        root = next((a for a in areas if a.code == under), None)
        if root is None:
            raise AreaError(Problem(0, "code", "areas.unknown", {"area_code": under}))
        starts = [root]
    else:
        starts = children.get(None, [])
    out: list[AreaNode] = []
    stack = [(a, 0) for a in reversed(starts)]
    while stack:
        area, depth = stack.pop()
        out.append(AreaNode(area, depth, totals.get(area.id, 0)))
        stack.extend((c, depth + 1) for c in reversed(children.get(area.id, [])))
    return out


def county_area(session: Session, code: str) -> Area:
    """The county with this code, or AreaError saying the code is unknown or names an area
    of another level (checklists and cycles are set per county)."""
    area = session.exec(select(Area).where(Area.code == code.strip())).first()
    if area is None:
        raise AreaError(Problem(0, "county", "areas.unknown", {"area_code": code}))
    if area.level != "county":
        params = {"area_code": area.code, "name": area.name}
        raise AreaError(Problem(0, "county", f"areas.not_county_{area.level}", params))
    return area
