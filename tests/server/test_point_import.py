"""Importing a county's register: all or nothing, with row- and field-level messages."""

from __future__ import annotations

import pytest
from openpyxl import Workbook
from sqlmodel import Session, select

from server.db import session_scope
from server.models import Area, ServicePoint
from server.services.changes import stamp
from server.services.point_import import import_points

HEADER = "编码,名称,类型,乡镇代码,纬度,经度,管理员,管理员电话,启用\n"


@pytest.fixture
def townships(engine):
    with session_scope(engine, write=True) as s:
        county = Area(code="610424", name="乾县", level="county")
        stamp(s, county)
        s.flush()
        for code, name in [("610424111", "阳洪镇"), ("610424001", "城关街道")]:
            stamp(s, Area(code=code, name=name, level="township", parent_id=county.id))


def _write(tmp_path, body: str, name="points.csv"):
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def _points(engine):
    with Session(engine) as s:
        return {p.code: p for p in s.exec(select(ServicePoint))}


def test_good_file_imports_every_row(engine, townships, tmp_path):
    path = _write(
        tmp_path,
        "610424111201,上旦村服务点,村服务点,610424111,34.44,108.24,王建国,13912345678,是\n"
        "610424111202,席家村服务点,village,610424111,,,,,\n",
    )
    with session_scope(engine, write=True) as s:
        report = import_points(s, path)
    assert report.written and report.created == 2 and report.problems == []
    points = _points(engine)
    assert points["610424111201"].manager_phone == "13912345678"
    assert points["610424111202"].lat is None and points["610424111202"].active
    assert points["610424111201"].seq > 0


def test_one_bad_row_blocks_the_whole_file_and_names_row_and_field(engine, townships, tmp_path):
    path = _write(
        tmp_path,
        "610424111201,上旦村服务点,村服务点,610424111,34.44,108.24,王建国,13912345678,是\n"
        "610424999201,某村服务点,村服务点,610424999,,,,,\n"
        "610424111203,,村服务点,610424111,91,108,,12345,也许\n",
    )
    with session_scope(engine, write=True) as s:
        report = import_points(s, path)
    assert not report.written
    found = {(p.row, p.field) for p in report.problems}
    assert (3, "township_code") in found
    assert {(4, "name"), (4, "lat"), (4, "manager_phone"), (4, "active")} <= found
    township = next(p for p in report.problems if p.field == "township_code")
    assert township.line("zh-CN") == "第 3 行 township_code：乡镇代码“610424999”不存在"
    assert township.line("en") == "Row 3, township_code: unknown township code '610424999'"
    assert _points(engine) == {}


def test_skip_bad_imports_only_the_good_rows(engine, townships, tmp_path):
    path = _write(
        tmp_path,
        "610424111201,上旦村服务点,村服务点,610424111,,,,,\n"
        "610424111202,席家村服务点,镇分馆?,610424111,,,,,\n",
    )
    with session_scope(engine, write=True) as s:
        report = import_points(s, path, skip_bad=True)
    assert report.written and report.created == 1 and report.skipped_rows == [3]
    assert set(_points(engine)) == {"610424111201"}


def test_duplicate_codes_and_near_duplicate_names_are_reported(engine, townships, tmp_path):
    path = _write(
        tmp_path,
        "610424001201,巨州村服务点,村服务点,610424001,,,,,\n"
        "610424001202,新巨洲村服务点,村服务点,610424001,,,,,\n"
        "610424001201,小留村服务点,村服务点,610424001,,,,,\n",
    )
    with session_scope(engine, write=True) as s:
        report = import_points(s, path)
    messages = {(p.row, p.field): p.message("en") for p in report.problems}
    assert "row 2" in messages[(3, "name")]
    assert "row 2" in messages[(4, "code")] and "row 4" in messages[(2, "code")]
    assert not report.written


def test_near_duplicate_of_an_existing_point(engine, townships, tmp_path):
    first = _write(tmp_path, "610424111201,阳洪镇上旦村服务点,村服务点,610424111,,,,,\n", "a.csv")
    with session_scope(engine, write=True) as s:
        assert import_points(s, first).written
    second = _write(tmp_path, "610424111209,杨洪镇上旦村,村服务点,610424111,,,,,\n", "b.csv")
    with session_scope(engine, write=True) as s:
        report = import_points(s, second)
    assert not report.written
    assert "610424111201" in report.problems[0].message("zh-CN")
    with session_scope(engine, write=True) as s:
        assert import_points(s, second, allow_similar=True).written


def test_reimport_updates_by_code(engine, townships, tmp_path):
    path = _write(tmp_path, "610424111201,上旦村服务点,村服务点,610424111,,,,,\n", "a.csv")
    with session_scope(engine, write=True) as s:
        import_points(s, path)
    path = _write(
        tmp_path, "610424111201,上旦村服务点,村服务点,610424111,,,李四,029-35123456,否\n", "b.csv"
    )
    with session_scope(engine, write=True) as s:
        report = import_points(s, path)
    assert report.updated == 1 and report.created == 0
    point = _points(engine)["610424111201"]
    assert point.manager_name == "李四" and point.active is False


def test_xlsx_with_english_headers(engine, townships, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["code", "name", "kind", "township_code", "lat", "lon"])
    ws.append(["610424001203", "小留村服务点", "village", "610424001", 34.53, 108.24])
    ws.append([None, None, None, None, None, None])
    ws.append(["610424001204", "北仁村分馆", "branch", 610424001, None, None])
    path = tmp_path / "points.xlsx"
    wb.save(path)
    with session_scope(engine, write=True) as s:
        report = import_points(s, path)
    assert report.problems == [] and report.created == 2
    assert _points(engine)["610424001204"].kind == "branch"


def test_missing_required_column_is_refused(engine, townships, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("编码,名称\n1,2\n", encoding="utf-8")
    with session_scope(engine, write=True) as s, pytest.raises(ValueError, match="township_code"):
        import_points(s, path)


def test_gb18030_csv_from_excel(engine, townships, tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes(
        (HEADER + "610424111201,上旦村服务点,村服务点,610424111,,,,,\n").encode("gb18030")
    )
    with session_scope(engine, write=True) as s:
        assert import_points(s, path).created == 1
