"""A register as Excel on Chinese Windows writes it: every quirk is read or named with its row
and field, never guessed at and never dropped in silence (services/point_import.py).

The files are made the way Excel makes them: XLSX through openpyxl (numbers as number cells,
a title row, a second sheet), "Unicode 文本" as UTF-16 with a byte order mark, tabs and
CRLF, CSV in GB18030, and files whose extension lies."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook
from sqlalchemy import text
from sqlmodel import Session, select

from server.cli import main
from server.db import session_scope
from server.models import AreaBoundary, ServicePoint
from server.services.areas import AreaRow, import_areas
from server.services.point_import import import_points
from server.services.problems import ImportFileError

HEADER = ["编码", "名称", "类型", "乡镇代码", "纬度", "经度", "管理员", "管理员电话", "启用"]
SEAT = (34.4817, 108.4256)  # 礼泉县城, roughly


@pytest.fixture
def county(engine):
    rows = [
        ("610000", "陕西省"),
        ("610400", "咸阳市"),
        ("610425", "礼泉县", *SEAT),
        ("610425101", "史德镇"),
        ("610425105", "烟霞镇"),
        ("610424", "乾县"),
        ("610424101", "薛录镇"),
        ("610424102", "史德镇"),  # a same-named township in another county
    ]
    area_rows = [
        AreaRow(n, r[0], r[1], *(str(v) for v in r[2:])) for n, r in enumerate(rows, start=1)
    ]
    with session_scope(engine, write=True) as s:
        report = import_areas(s, area_rows)
        assert report.written, [str(p) for p in report.problems]
        return {a.code: a.id for a in report.created}


def _run(engine, data: bytes, filename: str, **kw):
    with session_scope(engine, write=True) as s:
        return import_points(s, data, filename=filename, **kw)


def _csv(rows: list[list[str]], header=HEADER, encoding="utf-8") -> bytes:
    lines = [",".join(header)] + [",".join(r) for r in rows]
    return "\r\n".join(lines).encode(encoding)


def _points(engine) -> dict[str, ServicePoint]:
    with Session(engine) as s:
        return {p.code: p for p in s.exec(select(ServicePoint))}


def _counter(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT value FROM change_counter")).scalar_one()


def _found(report) -> dict[tuple[int, str], list[str]]:
    out: dict[tuple[int, str], list[str]] = {}
    for p in report.problems:
        out.setdefault((p.row, p.field), []).append(p.key)
    return out


def _xlsx(rows, header, title=None, second_sheet=False) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "名册"
    if title:
        ws.append([title])
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
    ws.append(header)
    for r in rows:
        ws.append(r)
    if second_sheet:
        wb.create_sheet("说明").append(["本表由县图书馆填写"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_xlsx_with_title_row_bracketed_units_extra_columns_and_number_cells(engine, county):
    header = ["序号", "编码", "名称", "类型", "乡镇代码", "纬度（°）", "经度（°）", "管理员",
              "管理员电话", "启用（是/否）", "备注"]  # fmt: skip
    rows = [
        [1, 610425101201, "史德村服务点", "村服务点", 610425101, 34.5655, 108.419, "王芳",
         13891234568, "是", "新建"],
        [2, 610425105000, "烟霞镇分馆", "镇（街道）分馆", 610425105, 34.585, 108.484, "刘洋",
         None, "否", None],
    ]  # fmt: skip
    report = _run(engine, _xlsx(rows, header, "礼泉县农家书屋名册（2027年）", True), "名册.xlsx")
    assert report.written and report.created == 2
    warnings = {(p.row, p.key) for p in report.problems}
    assert warnings == {
        (1, "import.title_row"),
        (2, "import.unknown_column"),
        (0, "import.other_sheets"),
    }
    assert all(p.severity == "warning" for p in report.problems)
    unknown = next(p for p in report.problems if p.key == "import.unknown_column")
    assert "备注" in unknown.message("zh-CN")
    points = _points(engine)
    village = points["610425101201"]
    assert (village.lat, village.lon, village.manager_phone) == (34.5655, 108.419, "13891234568")
    assert not village.coords_approx and village.active
    assert points["610425105000"].kind == "branch" and not points["610425105000"].active


def test_unicode_text_is_utf16_tab_separated_and_read_whatever_its_name(engine, county):
    lines = ["\t".join(HEADER), "\t".join(["610425101201", "史德村服务点", "村服务点",
             "610425101", "34.5655", "108.419", "王芳", "13891234568", "是"])]  # fmt: skip
    data = "\r\n".join(lines).encode("utf-16")  # with its byte order mark, as Excel saves
    report = _run(engine, data, "名册.txt", dry_run=True)
    assert report.problems == [] and report.created == 1
    lying = _run(engine, data, "名册.xls")
    assert lying.written and [p.key for p in lying.problems] == ["import.file_extension"]
    assert "utf-16" in lying.problems[0].message("en")


def test_an_xlsx_named_csv_and_a_gb18030_csv(engine, county):
    rows = [["610425101201", "史德村服务点", "村服务点", "610425101", "", "", "", "", ""]]
    report = _run(engine, _xlsx(rows, HEADER), "名册.csv")
    assert report.written and [p.key for p in report.problems] == ["import.file_extension"]
    gb = _csv([["610425101202", "东周村服务点", "村服务点", "610425101", "", "", "", "", ""]],
              encoding="gb18030")  # fmt: skip
    assert _run(engine, gb, "名册.csv").created == 1
    assert _points(engine)["610425101202"].name == "东周村服务点"


@pytest.mark.parametrize(
    ("data", "key"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(1000), "import.file_legacy_xls"),
        ("<html><table><tr><td>编码</td></tr></table></html>".encode(), "import.file_html"),
        (b"%PDF-1.7\n%\xe2\xe3", "import.file_pdf"),
        (b"PK\x03\x04" + bytes(100), "import.file_bad_xlsx"),
        (bytes(range(1, 32)) * 40, "import.file_binary"),
        (bytes(range(128, 256)) * 8, "import.file_encoding"),
        (b"", "import.file_empty"),
        ("村,乡\n某村,某乡\n".encode(), "import.no_header"),
        ("编码,名称,乡镇代码\n1,x,2\n".encode(), "import.missing_columns"),
    ],
)
def test_files_that_are_no_register_are_named_never_a_traceback(engine, county, data, key):
    with pytest.raises(ImportFileError) as exc:
        _run(engine, data, "名册.xls")
    assert exc.value.key == key and exc.value.message("zh-CN")


def test_full_width_digits_and_punctuation_are_read_as_ascii(engine, county):
    header = ["编码", "名称", "类型", "乡镇代码", "纬度（°）", "经度（°）", "管理员电话"]
    row = ["６１０４２５１０１２０１", "史德村服务点", "村服务点", "６１０４２５１０１",
           "３４．５６５５", "１０８．４１９", "１３８ ９１２３ ４５６８"]  # fmt: skip
    report = _run(engine, _csv([row], header), "名册.csv")
    assert report.written and report.problems == []
    point = _points(engine)["610425101201"]
    assert (point.lat, point.manager_phone) == (34.5655, "13891234568")


def test_coordinates_swapped_outside_china_or_far_from_the_county(engine, county):
    rows = [
        ["610425101201", "甲村", "村服务点", "610425101", "108.419", "34.5655", "", "", ""],
        ["610425101202", "乙村", "村服务点", "610425101", "51.5", "-0.12", "", "", ""],
        ["610425101203", "丙村", "村服务点", "610425101", "39.9", "116.4", "", "", ""],
        ["610425101204", "丁村", "村服务点", "610425101", "34°33′", "108.4", "", "", ""],
        ["610425101205", "戊村", "村服务点", "610425101", "34.5", "", "", "", ""],
    ]
    report = _run(engine, _csv(rows), "名册.csv")
    found = _found(report)
    assert found[(2, "lat")] == ["import.swapped"]
    assert found[(3, "lat")] == ["import.outside_china"]
    assert found[(4, "lat")] == ["import.far_from_seat"]  # Beijing: a warning, not an error
    assert found[(5, "lat")] == ["import.not_a_number"]
    assert found[(6, "lat")] == ["import.coords_pair"]
    swapped = next(p for p in report.problems if p.key == "import.swapped")
    assert "108.419" in swapped.message("en") and "swapped" in swapped.message("en")
    assert not report.written


def _square(lat, lon, d=0.05) -> dict:
    ring = [[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d], [lon - d, lat + d]]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def test_boundaries_decide_inside_the_county_and_the_township(engine, county):
    with session_scope(engine, write=True) as s:
        for code, (lat, lon) in (("610425101", (34.56, 108.42)), ("610425105", (34.60, 108.50))):
            geo = _square(lat, lon)
            box = {"min_lon": lon - 0.05, "min_lat": lat - 0.05}
            box |= {"max_lon": lon + 0.05, "max_lat": lat + 0.05}
            s.add(AreaBoundary(area_id=county[code], geometry=geo, **box))
    rows = [
        ["610425101201", "甲村", "村服务点", "610425101", "34.56", "108.42", "", "", ""],
        ["610425101202", "乙村", "村服务点", "610425101", "34.60", "108.50", "", "", ""],
        ["610425101203", "丙村", "村服务点", "610425101", "34.30", "108.10", "", "", ""],
    ]
    report = _run(engine, _csv(rows), "名册.csv", dry_run=True)
    found = {(p.row, p.key): p for p in report.problems}
    assert set(found) == {(3, "import.outside_township"), (4, "import.outside_county")}
    assert found[(3, "import.outside_township")].severity == "warning"
    assert "烟霞镇" in found[(3, "import.outside_township")].message("zh-CN")
    assert found[(4, "import.outside_county")].severity == "error"


def test_phone_numbers_are_normalised_to_one_form(engine, county):
    phones = ["+86 138 9123 4567", "138-9123-4568", "0086 13891234569", "(029)3562 1234",
              "029-35621235", "2935621236", "12345", "0910-3212345"]  # fmt: skip
    rows = [
        [f"61042510120{n}", f"村{n}", "村服务点", "610425101", "", "", "", phone, ""]
        for n, phone in enumerate(phones)
    ]
    report = _run(engine, _csv(rows), "名册.csv", skip_bad=True)
    found = _found(report)
    assert found[(7, "manager_phone")] == ["import.phone_zero"]  # Excel ate the leading 0
    assert found[(8, "manager_phone")] == ["import.phone_bad"]
    assert found[(9, "manager_phone")] == ["import.phone_bad"]  # 0910 was merged into 029
    stored = {p.code[-1]: p.manager_phone for p in _points(engine).values()}
    assert stored == {"0": "13891234567", "1": "13891234568", "2": "13891234569",
                      "3": "029-35621234", "4": "029-35621235", "5": "029-35621236"}  # fmt: skip


def test_duplicate_codes_name_both_rows(engine, county):
    rows = [
        ["610425101201", "甲村", "村服务点", "610425101", "", "", "", "", ""],
        ["610425101202", "乙村", "村服务点", "610425101", "", "", "", "", ""],
        ["610425101201", "丙村", "村服务点", "610425101", "", "", "", "", ""],
    ]
    report = _run(engine, _csv(rows), "名册.csv")
    dup = {(p.row, p.params["other"]) for p in report.problems if p.key == "import.duplicate_code"}
    assert dup == {(2, 4), (4, 2)} and not report.written and _points(engine) == {}


def test_nul_bytes_and_over_long_names_are_named(engine, county):
    rows = [
        ["610425101201", "甲\x00村", "村服务点", "610425101", "", "", "王\x00芳", "", ""],
        ["610425101202", "乙" * 65, "村服务点", "610425101", "", "", "管" * 33, "", ""],
        ["610425101203", "丙村", "村服务点", "610425101", "", "", "", "", ""],
    ]
    report = _run(engine, _csv(rows), "名册.csv")
    found = _found(report)
    assert found[(2, "name")] == ["import.nul_byte"]
    assert found[(2, "manager_name")] == ["import.nul_byte"]
    assert found[(3, "name")] == ["import.too_long"] and found[(3, "manager_name")] == [
        "import.too_long"
    ]
    assert not report.written
    report = _run(engine, _csv(rows), "名册.csv", skip_bad=True)  # PostgreSQL never sees a NUL
    assert (
        report.written
        and report.skipped_rows == [2, 3]
        and set(_points(engine)) == {"610425101203"}
    )


def test_near_duplicates_by_sound_and_writing(engine, county):
    first = [
        ["610425101201", "阳洪村服务点", "村服务点", "610425101", "", "", "", "", ""],
        ["610425101202", "巨州村服务点", "村服务点", "610425101", "", "", "", "", ""],
        ["610425101203", "王家村服务点", "村服务点", "610425101", "", "", "", "", ""],
        ["610425101204", "白塔村服务点", "村服务点", "610425101", "", "", "", "", ""],
    ]
    assert _run(engine, _csv(first), "a.csv").created == 4
    second = [
        ["610425101211", "杨洪村", "村服务点", "610425101", "", "", "", "", ""],
        ["610425101212", "新巨洲村服务点", "村服务点", "610425101", "", "", "", "", ""],
        ["610425101213", "汪家村", "村服务点", "610425101", "", "", "", "", ""],
        ["610425101214", "龙泉村", "村服务点", "610425101", "", "", "", "", ""],
        ["610425101215", "隆泉村", "村服务点", "610425101", "", "", "", "", ""],
        ["610425101216", "白塔东村服务点", "村服务点", "610425101", "", "", "", "", ""],
        ["610425105216", "隆泉村", "村服务点", "610425105", "", "", "", "", ""],  # other township
    ]
    report = _run(engine, _csv(second), "b.csv")
    found = {p.row: p for p in report.problems}
    assert set(found) == {2, 3, 4, 6}
    assert found[2].key == "import.same_sound_point" and found[2].params["pinyin"] == "yang hong"
    assert found[3].key == "import.sound_within_point" and "610425101202" in found[3].message("en")
    assert found[4].key == "import.same_sound_point"
    assert found[6].key == "import.same_sound_row" and found[6].params["other"] == 5
    assert "白塔" not in " ".join(p.message("zh-CN") for p in report.problems)
    accepted = _run(engine, _csv(second), "b.csv", allow_similar=True)
    assert accepted.written and accepted.created == 7
    # accepted once, the pairs stand: an unchanged re-import raises nothing
    again = _run(engine, _csv(first + second), "c.csv")
    assert again.written and again.problems == [] and again.unchanged == 11


def test_reimporting_an_unchanged_register_changes_nothing(engine, county):
    rows = [
        ["610425101201", "甲村服务点", "村服务点", "610425101", "34.5655", "108.419", "王芳",
         "+86 138 9123 4567", "是"],
        ["610425101202", "乙村服务点", "村服务点", "610425101", "", "", "", "", ""],
    ]  # fmt: skip
    data = _xlsx(rows, HEADER)
    assert _run(engine, data, "a.xlsx").created == 2
    before, seqs = _counter(engine), {c: p.seq for c, p in _points(engine).items()}
    report = _run(engine, data, "a.xlsx")
    assert report.written and (report.created, report.updated, report.unchanged) == (0, 0, 2)
    assert _counter(engine) == before
    assert {c: p.seq for c, p in _points(engine).items()} == seqs


def test_a_rename_is_reported_as_a_rename(engine, county, tmp_path, db_url, capsys):
    rows = [["610425101201", "甲村服务点", "村服务点", "610425101", "", "", "", "", ""]]
    assert _run(engine, _csv(rows), "a.csv").created == 1
    rows[0][1] = "甲家村服务点"
    path = tmp_path / "b.csv"
    path.write_bytes(_csv(rows))
    assert main(["--database-url", db_url, "--lang", "en", "import", "points", str(path)]) == 0
    out = capsys.readouterr().out
    assert "610425101201 renamed: 甲村服务点 → 甲家村服务点" in out
    assert "1 updated (1 renamed)" in out
    assert _points(engine)["610425101201"].name == "甲家村服务点"


def test_blank_cells_keep_what_a_point_holds_and_say_so(engine, county):
    full = ["610425101201", "甲村", "村服务点", "610425101", "34.56", "108.42", "王芳",
            "13891234567", "否"]  # fmt: skip
    assert _run(engine, _csv([full]), "a.csv").created == 1
    blank = [*full[:4], "", "", "", "", ""]
    report = _run(engine, _csv([blank]), "b.csv")
    assert report.unchanged == 1
    assert {p.field for p in report.problems if p.key == "import.blank_kept"} == {
        "lat", "manager_name", "manager_phone", "active"
    }  # fmt: skip
    point = _points(engine)["610425101201"]
    assert (point.lat, point.manager_name, point.active) == (34.56, "王芳", False)


def test_township_by_name_code_mismatch_ambiguity_and_scope(engine, county):
    header = ["编码", "名称", "类型", "乡镇", "乡镇代码"]
    rows = [
        ["610425105201", "甲村", "村服务点", "烟霞镇", ""],
        ["610425101201", "乙村", "村服务点", "史德镇", ""],  # two counties have a 史德镇
        ["610425101202", "丙村", "村服务点", "烟霞镇", "610425101"],
        ["610424101201", "丁村", "村服务点", "", "610424101"],  # not in this person's area
        ["610425101203", "戊村", "村服务点", "", "610425999"],
    ]
    liquan = {county["610425101"], county["610425105"]}
    report = _run(engine, _csv(rows, header), "a.csv", townships=liquan, dry_run=True)
    found = _found(report)
    assert (2, "township") not in found and report.rows[0].action == "create"
    assert found[(3, "township")] == ["import.township_ambiguous"]
    assert found[(4, "township")] == ["import.township_mismatch"]
    assert found[(5, "township_code")] == ["import.township_out_of_scope"]
    assert found[(6, "township_code")] == ["import.unknown_township"]


def test_repeated_header_rows_from_a_printed_layout_are_skipped(engine, county):
    rows = [
        ["610425101201", "甲村", "村服务点", "610425101", "", "", "", "", ""],
        HEADER,
        ["610425101202", "乙村", "村服务点", "610425101", "", "", "", "", ""],
    ]
    report = _run(engine, _csv(rows), "a.csv")
    assert report.created == 2 and [p.key for p in report.problems] == ["import.repeated_header"]


def test_values_under_no_header_are_reported(engine, county):
    rows = [["610425101201", "甲村", "村服务点", "610425101", "", "", "", "", "", "多余"]]
    report = _run(engine, _csv(rows), "a.csv")
    assert report.written and [p.key for p in report.problems] == ["import.unnamed_column"]
    assert report.problems[0].params == {"column": 10}
