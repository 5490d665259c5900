"""Importing service points from a county's CSV or XLSX register.

Every row is checked before anything is written. Errors name the row and the field. Real
registers spell one village two ways (巨州 / 新巨洲), so near-duplicate names are reported,
never guessed at.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from server.i18n import text
from server.models import Area, ServicePoint
from server.services.changes import stamp
from server.services.summaries import refresh_points
from server.services.sync_store import lock_writers

# Column name -> accepted headers (English key, Chinese register headings).
COLUMNS: dict[str, tuple[str, ...]] = {
    "code": ("code", "编码", "服务点编码", "代码"),
    "name": ("name", "名称", "服务点名称", "村名"),
    "kind": ("kind", "类型", "服务点类型"),
    "township_code": ("township_code", "乡镇代码", "镇街代码", "所属乡镇代码"),
    "lat": ("lat", "纬度"),
    "lon": ("lon", "经度"),
    "manager_name": ("manager_name", "管理员", "管理员姓名"),
    "manager_phone": ("manager_phone", "管理员电话", "联系电话", "电话"),
    "active": ("active", "启用", "是否启用"),
}
REQUIRED = ("code", "name", "kind", "township_code")
KIND_WORDS = {
    "village": "village",
    "村服务点": "village",
    "服务点": "village",
    "农家书屋": "village",
    "branch": "branch",
    "镇分馆": "branch",
    "分馆": "branch",
}
TRUE_WORDS = {"", "1", "true", "yes", "y", "是", "启用"}
FALSE_WORDS = {"0", "false", "no", "n", "否", "停用"}
PHONE = re.compile(r"^(1\d{10}|0\d{2,3}-?\d{7,8})$")
CODE = re.compile(r"^[0-9A-Za-z-]{4,32}$")
_SUFFIXES = ("农家书屋", "服务点", "村委会", "分馆", "社区", "村")
_VARIANTS = str.maketrans({"洲": "州", "杨": "阳"})


@dataclass
class RowProblem:
    """What is wrong with one field of one row: a catalog key (`import.*`) and its params."""

    row: int
    field: str
    key: str
    params: dict[str, Any] = field(default_factory=dict)

    def message(self, lang: str) -> str:
        return text(lang, self.key, **self.params)

    def line(self, lang: str) -> str:
        """`第3行 township_code：乡镇代码“000”不存在` in the reader's language."""
        return text(
            lang, "import.row_problem", row=self.row, field=self.field, message=self.message(lang)
        )


class ImportFileError(ValueError):
    """The file as a whole cannot be read as a register (a catalog key and its params)."""

    def __init__(self, key: str, /, **params: Any) -> None:
        super().__init__(text("en", key, **params))
        self.key, self.params = key, params

    def message(self, lang: str) -> str:
        return text(lang, self.key, **self.params)


@dataclass
class ImportReport:
    problems: list[RowProblem] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    skipped_rows: list[int] = field(default_factory=list)
    written: bool = False

    @property
    def bad_rows(self) -> set[int]:
        return {p.row for p in self.problems}


def read_rows(path: Path) -> list[dict[str, str]]:
    """Rows as dicts keyed by our column names; row numbers count the header as row 1."""
    suffix = path.suffix.lower()
    if suffix in {".xlsx", ".xlsm"}:
        from openpyxl import load_workbook

        wb = load_workbook(path, read_only=True, data_only=True)
        raw = [
            ["" if v is None else str(v).strip() for v in row]
            for row in wb.worksheets[0].iter_rows(values_only=True)
        ]
        wb.close()
    elif suffix in {".csv", ".txt"}:
        data = path.read_bytes()
        for enc in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(enc)
                break
            except UnicodeDecodeError:
                continue
        raw = [[c.strip() for c in r] for r in csv.reader(io.StringIO(text))]
    else:
        raise ImportFileError("import.unsupported_type", suffix=suffix)
    if not raw:
        raise ImportFileError("import.file_empty")
    header = raw[0]
    mapping: dict[int, str] = {}
    for idx, title in enumerate(header):
        for key, names in COLUMNS.items():
            if title.strip().lower() in names:
                mapping[idx] = key
    missing = [c for c in REQUIRED if c not in mapping.values()]
    if missing:
        raise ImportFileError(
            "import.missing_columns", columns=[f"{c} ({COLUMNS[c][1]})" for c in missing]
        )
    rows = []
    for values in raw[1:]:
        if not any(values):
            rows.append({})
            continue
        rows.append({mapping[i]: v for i, v in enumerate(values) if i in mapping})
    return rows


def _norm_name(name: str) -> str:
    name = name.strip().translate(_VARIANTS)
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
    return name


def similar(a: str, b: str) -> bool:
    na, nb = _norm_name(a), _norm_name(b)
    if na == nb:
        return True
    if min(len(na), len(nb)) >= 2 and (na in nb or nb in na):
        return True
    return SequenceMatcher(None, na, nb).ratio() >= 0.75


def validate(session: Session, rows: list[dict[str, str]], *, allow_similar: bool = False):
    """Check every row; return (clean records by row number, problems)."""
    problems: list[RowProblem] = []
    townships = {a.code: a for a in session.exec(select(Area).where(Area.level == "township"))}
    existing = list(session.exec(select(ServicePoint)))
    by_code = {p.code: p for p in existing}
    seen_codes: dict[str, int] = {}
    accepted: list[tuple[int, dict]] = []
    clean: dict[int, dict] = {}

    def bad(row: int, fld: str, key: str, **params: Any) -> None:
        problems.append(RowProblem(row, fld, key, params))

    for offset, row in enumerate(rows):
        n = offset + 2
        if not row:
            continue
        for fld in REQUIRED:
            if not row.get(fld):
                bad(n, fld, "import.required")
        code, name = row.get("code", ""), row.get("name", "")
        if code and not CODE.match(code):
            bad(n, "code", "import.bad_code", code=code)
        if code in seen_codes:
            bad(n, "code", "import.duplicate_code", other=seen_codes[code])
        elif code:
            seen_codes[code] = n
        kind = KIND_WORDS.get(row.get("kind", "").strip().lower())
        if row.get("kind") and kind is None:
            bad(n, "kind", "import.unknown_kind", kind=row["kind"])
        tcode = row.get("township_code", "")
        township = townships.get(tcode)
        if tcode and township is None:
            bad(n, "township_code", "import.unknown_township", code=tcode)
        lat, lon = _coord(row, "lat", -90, 90, n, bad), _coord(row, "lon", -180, 180, n, bad)
        if (lat is None) != (lon is None) and not any(
            p.row == n and p.field in {"lat", "lon"} for p in problems
        ):
            bad(n, "lat", "import.coords_pair")
        phone = row.get("manager_phone", "").replace(" ", "")
        if phone and not PHONE.match(phone):
            bad(n, "manager_phone", "import.bad_phone", phone=phone)
        active_word = row.get("active", "").strip().lower()
        if active_word not in TRUE_WORDS | FALSE_WORDS:
            bad(n, "active", "import.not_yes_no", value=row["active"])
        if name and township is not None:
            _check_names(n, code, name, kind, township, accepted, existing, bad, allow_similar)
        if not any(p.row == n for p in problems):
            record = {
                "code": code,
                "name": name,
                "kind": kind,
                "township_id": township.id,
                "lat": lat,
                "lon": lon,
                "manager_name": row.get("manager_name") or None,
                "manager_phone": phone or None,
                "active": active_word not in FALSE_WORDS,
                "update": code in by_code,
            }
            clean[n] = record
        if name and township is not None:
            accepted.append(
                (n, {"code": code, "name": name, "kind": kind, "township_id": township.id})
            )
    return clean, problems


def _coord(row, fld, lo, hi, n, bad) -> float | None:
    raw = row.get(fld, "")
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        bad(n, fld, "import.not_a_number", value=raw)
        return None
    if not lo <= value <= hi:
        bad(n, fld, "import.out_of_range", value=value, lo=lo, hi=hi)
        return None
    return value


def _check_names(n, code, name, kind, township, accepted, existing, bad, allow_similar) -> None:
    for other_row, other in accepted:
        if other["township_id"] != township.id or other["code"] == code or other["kind"] != kind:
            continue
        if other["name"] == name:
            bad(n, "name", "import.same_name_row", other=other_row, name=name)
        elif similar(other["name"], name) and not allow_similar:
            bad(n, "name", "import.similar_name_row", other=other_row, name=other["name"])
    for point in existing:
        if point.township_id != township.id or point.code == code or point.kind != kind:
            continue
        if point.name == name:
            bad(n, "name", "import.same_name_point", name=name, code=point.code)
        elif similar(point.name, name) and not allow_similar:
            bad(n, "name", "import.similar_name_point", name=point.name, code=point.code)


def import_points(
    session: Session, path: Path, *, skip_bad: bool = False, allow_similar: bool = False
) -> ImportReport:
    """Validate everything; write all rows, or none while any row is bad (unless skip_bad)."""
    report = ImportReport()
    rows = read_rows(path)
    clean, report.problems = validate(session, rows, allow_similar=allow_similar)
    if report.problems and not skip_bad:
        return report
    report.skipped_rows = sorted(report.bad_rows)
    existing = {p.code: p for p in session.exec(select(ServicePoint))}
    touched = []
    for record in clean.values():
        is_update = record.pop("update")
        point = existing.get(record["code"]) if is_update else None
        if point is None:
            point = ServicePoint(**record)
            report.created += 1
        else:
            for key, value in record.items():
                setattr(point, key, value)
            report.updated += 1
        touched.append(point)
    stamp(session, *touched)
    session.flush()
    lock_writers(session)
    refresh_points(session, [p.id for p in touched])
    report.written = True
    return report
