"""Importing service points from a county's register: check every row, then write all of it,
or nothing while any row is bad (unless the good rows are asked for alone).

Never guesses, never drops in silence: the file's format is read from its bytes
(services/sheets.py), each cell is read or named with its row and field
(register_fields.py), near-duplicate names are found by sound and writing (domain/names.py),
and blank cells keep what a point already holds, with a note. Re-importing an unchanged
register writes nothing and stamps nothing; a changed name is reported as a rename.

The same `import_points` serves the CLI and the web preview (`dry_run=True`), so what the
preview shows is what the confirmation writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session, select

from server.models import Area, AreaBoundary, ServicePoint
from server.models._base import utcnow
from server.services import register_fields as rf
from server.services.changes import stamp
from server.services.point_checks import check_names, check_place
from server.services.problems import Problem
from server.services.sheets import read_path, read_sheet, table
from server.services.summaries import refresh_points
from server.services.sync_write import lock_writers

COLUMNS: dict[str, tuple[str, ...]] = {
    "code": ("code", "编码", "服务点编码", "代码", "编号", "统计用区划代码", "村代码"),
    "name": ("name", "名称", "服务点名称", "村名", "书屋名称", "农家书屋名称"),
    "kind": ("kind", "类型", "服务点类型"),
    "township_code": ("township_code", "乡镇代码", "镇街代码", "所属乡镇代码"),
    "township": ("township", "乡镇", "所属乡镇", "镇街", "乡镇名称", "乡镇街道"),
    "lat": ("lat", "纬度", "latitude"),
    "lon": ("lon", "经度", "longitude", "lng"),
    "manager_name": ("manager_name", "管理员", "管理员姓名", "负责人"),
    "manager_phone": ("manager_phone", "管理员电话", "联系电话", "电话", "手机", "联系方式"),
    "active": ("active", "启用", "是否启用"),
}
REQUIRED = ("code", "name", "kind")
IGNORED = ("序号",)  # row numbering: known, so not reported as an unknown column
LIMITS = {"name": 64, "manager_name": 32}
FIELDS = ("name", "kind", "township_id", "lat", "lon", "manager_name", "manager_phone", "active")


@dataclass
class RowPlan:
    """What one row will do: create, update, rename, unchanged, or error."""

    row: int
    code: str
    name: str
    action: str = "error"
    changes: dict[str, tuple] = field(default_factory=dict)  # field -> (old, new)
    record: dict = field(default_factory=dict)


@dataclass
class ImportReport:
    problems: list[Problem] = field(default_factory=list)
    rows: list[RowPlan] = field(default_factory=list)
    skipped_rows: list[int] = field(default_factory=list)
    written: bool = False

    def count(self, action: str) -> int:
        return sum(1 for r in self.rows if r.action == action)

    @property
    def created(self) -> int:
        return self.count("create")

    @property
    def updated(self) -> int:
        return self.count("update") + self.count("rename")

    @property
    def renamed(self) -> list[RowPlan]:
        return [r for r in self.rows if r.action == "rename"]

    @property
    def unchanged(self) -> int:
        return self.count("unchanged")

    @property
    def bad_rows(self) -> set[int]:
        return {p.row for p in self.problems if p.severity == "error"}

    @property
    def file_errors(self) -> list[Problem]:
        """Errors of the file as a whole (a header row, say): no row can be written then."""
        rows = {r.row for r in self.rows}
        return [p for p in self.problems if p.severity == "error" and p.row not in rows]


def import_points(
    session: Session,
    source: Path | bytes,
    *,
    filename: str = "",
    skip_bad: bool = False,
    allow_similar: bool = False,
    townships: set[int] | None = None,
    dry_run: bool = False,
    user_id: int | None = None,
) -> ImportReport:
    """Check the register, then write it whole (or its good rows with `skip_bad`).

    `townships`: the township ids the person importing may write (None: all). Raises
    ImportFileError when the file as a whole cannot be read."""
    sheet = read_path(source) if isinstance(source, Path) else read_sheet(source, filename)
    tbl = table(sheet, COLUMNS, REQUIRED, IGNORED, one_of=(("township_code", "township"),))
    report = ImportReport(problems=list(tbl.problems))
    ctx = _Context(session, townships)
    for n, row in tbl.rows:
        report.rows.append(_check_row(ctx, n, row, report.problems))
    _duplicates(report)
    check_names(ctx.existing, report.rows, report.problems, allow_similar)
    check_place(ctx.boundaries, ctx.areas, report.rows, report.problems)
    bad = report.bad_rows
    for plan in report.rows:
        if plan.row in bad:
            plan.action = "error"
    if dry_run or report.file_errors or (bad and not skip_bad):
        return report
    report.skipped_rows = sorted(r.row for r in report.rows if r.action == "error")
    touched = []
    for plan in report.rows:
        if plan.action in ("create", "update", "rename"):
            touched.append(_apply(ctx, plan))
    stamp(session, *touched)
    session.flush()
    if touched:
        # a point's summary row (services/summaries.py) follows it in the same transaction
        lock_writers(session)
        refresh_points(session, [p.id for p in touched])
    report.written = True
    return report


class _Context:
    """What every row is checked against, read once."""

    def __init__(self, session: Session, townships: set[int] | None) -> None:
        self.areas = {a.id: a for a in session.exec(select(Area))}
        self.townships = {a.code: a for a in self.areas.values() if a.level == "township"}
        self.by_name: dict[str, list[Area]] = {}
        for t in self.townships.values():
            self.by_name.setdefault(t.name, []).append(t)
        self.allowed = townships
        self.existing = {p.code: p for p in session.exec(select(ServicePoint))}
        self.boundaries = {b.area_id: b for b in session.exec(select(AreaBoundary))}


def _check_row(ctx: _Context, n: int, row: dict[str, str], problems: list[Problem]) -> RowPlan:
    plan = RowPlan(n, row.get("code", ""), row.get("name", ""))

    def bad(fld: str, key: str, params: dict | None = None, severity: str = "error") -> None:
        problems.append(Problem(n, fld, key, params or {}, severity))

    for fld, value in list(row.items()):
        if rf.has_control(value):
            bad(fld, "import.nul_byte")
            row[fld] = "\x00"  # not blank (that would read as "keep"), never stored
    for fld in REQUIRED:
        if not row.get(fld):
            bad(fld, "import.required")
    code = row.get("code", "")
    if code and not rf.CODE.match(code):
        bad("code", "import.bad_code", {"code": code})
    for fld, limit in LIMITS.items():
        if len(row.get(fld, "")) > limit:
            bad(fld, "import.too_long", {"length": len(row[fld]), "max": limit})
    record: dict = {"code": code, "name": row.get("name", "")}
    if row.get("kind"):
        record["kind"], found = rf.kind(row["kind"])
        _report(bad, "kind", found)
    township = _township(ctx, row, bad)
    if township is not None:
        record["township_id"] = township.id
    if "lat" in row or "lon" in row:
        pos, found_pos = rf.position(row.get("lat", ""), row.get("lon", ""))
        for fld, key, params, severity in found_pos:
            bad(fld, key, params, severity)
        if pos is not None:
            record["lat"], record["lon"] = pos
    if row.get("manager_name"):
        record["manager_name"] = row["manager_name"]
    if row.get("manager_phone"):
        record["manager_phone"], found = rf.phone(row["manager_phone"])
        _report(bad, "manager_phone", found)
    if row.get("active"):
        record["active"], found = rf.yes_no(row["active"])
        _report(bad, "active", found)
    plan.record = record
    _plan_action(ctx, plan, row, problems)
    return plan


def _report(bad, fld: str, found: rf.Found) -> None:
    if found is not None:
        key, params, severity = found
        bad(fld, key, params, severity)


def _township(ctx: _Context, row: dict[str, str], bad) -> Area | None:
    code, name = row.get("township_code", ""), row.get("township", "")
    if not code and not name:
        bad("township_code", "import.required")
        return None
    found = None
    if code:
        found = ctx.townships.get(code)
        if found is None:
            bad("township_code", "import.unknown_township", {"code": code})
            return None
        if name and name != found.name:
            bad(
                "township",
                "import.township_mismatch",
                {"code": code, "value": name, "name": found.name},
            )
            return None
    else:
        matches = ctx.by_name.get(name, [])
        if len(matches) > 1:
            codes = [t.code for t in matches]
            bad("township", "import.township_ambiguous", {"value": name, "codes": codes})
            return None
        if not matches:
            bad("township", "import.unknown_township", {"code": name})
            return None
        found = matches[0]
    if ctx.allowed is not None and found.id not in ctx.allowed:
        bad("township_code", "import.township_out_of_scope", {"code": found.code})
        return None
    return found


def _plan_action(ctx: _Context, plan: RowPlan, row: dict[str, str], problems) -> None:
    """create / update / rename / unchanged, and which fields change. A blank cell keeps
    what the point holds (a note says so), so a register with gaps never erases data."""
    point = ctx.existing.get(plan.code)
    record = plan.record
    if point is None:
        record.setdefault("active", True)
        record["coords_approx"] = False
        plan.action = "create"
        return
    for fld in ("lat", "manager_name", "manager_phone", "active"):
        held = getattr(point, fld)
        if fld in row and not row[fld] and held is not None and held is not True:
            kept = getattr(point, fld)
            problems.append(Problem(plan.row, fld, "import.blank_kept", {"value": kept}, "warning"))
    for fld in FIELDS:
        if fld in record and record[fld] != getattr(point, fld):
            plan.changes[fld] = (getattr(point, fld), record[fld])
    if "lat" in plan.changes or "lon" in plan.changes:
        record["coords_approx"] = False
    if not plan.changes:
        plan.action = "unchanged"
    elif "name" in plan.changes:
        plan.action = "rename"
    else:
        plan.action = "update"


def _duplicates(report: ImportReport) -> None:
    """A code given twice: both rows are named, each pointing at the other."""
    first: dict[str, int] = {}
    for plan in report.rows:
        if not plan.code:
            continue
        if plan.code in first:
            other = first[plan.code]
            report.problems.append(
                Problem(plan.row, "code", "import.duplicate_code", {"other": other})
            )
            report.problems.append(
                Problem(other, "code", "import.duplicate_code", {"other": plan.row})
            )
        else:
            first[plan.code] = plan.row


def _apply(ctx: _Context, plan: RowPlan) -> ServicePoint:
    point = ctx.existing.get(plan.code)
    if point is None:
        point = ServicePoint(**plan.record)
        ctx.existing[plan.code] = point
        return point
    for fld, (_, new) in plan.changes.items():
        setattr(point, fld, new)
    point.updated_at = utcnow()
    if "coords_approx" in plan.record:
        point.coords_approx = plan.record["coords_approx"]
    return point
