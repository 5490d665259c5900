"""`xunjian area import|add|rename|list` and the county checks of `template` and `cycle`: areas
from division codes, every row error named, nothing half written, every write stamped."""

from __future__ import annotations

import json

import pytest
from openpyxl import Workbook
from sqlalchemy import text
from sqlmodel import Session, select

from server.cli import main
from server.models import Area, AuditLog

LIQUAN = [
    ("610000000000", "陕西省"),
    ("610400000000", "咸阳市"),
    ("610425000000", "礼泉县"),
    ("610425101000", "史德镇"),
    ("610425105000", "烟霞镇"),
]


def cli(db_url: str, *args: str) -> int:
    return main(["--database-url", db_url, "--lang", "en", *args])


def _areas(engine) -> dict[str, Area]:
    with Session(engine) as s:
        return {a.code: a for a in s.exec(select(Area))}


def _counter(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT value FROM change_counter")).scalar_one()


def test_xlsx_of_12_digit_codes_builds_the_tree(db_url, engine, tmp_path, capsys):
    wb = Workbook()
    ws = wb.active
    ws.append(["礼泉县统计用区划代码（2023年）"])  # a title row above the header
    ws.append(["统计用区划代码", "城乡分类代码", "名称"])
    for code, name in LIQUAN:
        ws.append([int(code), None, name])  # Excel keeps codes as numbers
    ws.append([610425101201, 220, "史德村委会"])  # a village: not an area
    path = tmp_path / "areas.xlsx"
    wb.save(path)
    assert cli(db_url, "area", "import", str(path)) == 0
    out = capsys.readouterr()
    assert "5 created" in out.out and "Title row" in out.err and "village-level code" in out.err
    areas = _areas(engine)
    assert set(areas) == {"610000", "610400", "610425", "610425101", "610425105"}
    assert areas["610425105"].level == "township"
    assert areas["610425105"].parent_id == areas["610425"].id
    assert areas["610425"].parent_id == areas["610400"].id
    assert sorted(a.seq for a in areas.values()) == sorted(set(a.seq for a in areas.values()))
    assert all(a.seq > 0 for a in areas.values())
    with Session(engine) as s:
        entry = s.exec(select(AuditLog).where(AuditLog.action == "area.import")).one()
    assert entry.detail["created"][0] == "610000"

    # the same file again changes nothing and stamps nothing
    before = _counter(engine)
    assert cli(db_url, "area", "import", str(path)) == 0
    assert "0 created" in capsys.readouterr().out and _counter(engine) == before

    assert cli(db_url, "area", "list", "--under", "610425") == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing[0].startswith("610425 ") and listing[1].startswith("  610425101")


def test_six_and_nine_digit_forms_in_unicode_text_without_a_header(db_url, engine, tmp_path):
    lines = ["610000\t陕西省", "610400\t咸阳市", "610425\t礼泉县", "610425101\t史德镇"]
    path = tmp_path / "areas.txt"
    path.write_bytes("\r\n".join(lines).encode("utf-16"))  # Excel's "Unicode 文本"
    assert cli(db_url, "area", "import", str(path)) == 0
    assert _areas(engine)["610425101"].name == "史德镇"


def test_a_rename_in_the_list_is_reported(db_url, engine, tmp_path, capsys):
    path = tmp_path / "a.csv"
    path.write_text("代码,名称\n" + "\n".join(f"{c},{n}" for c, n in LIQUAN), encoding="utf-8")
    assert cli(db_url, "area", "import", str(path)) == 0
    seq = _areas(engine)["610425105"].seq
    path.write_text(
        path.read_text(encoding="utf-8").replace("烟霞镇", "烟霞街道"), encoding="utf-8"
    )
    capsys.readouterr()
    assert cli(db_url, "area", "import", str(path)) == 0
    out = capsys.readouterr().out
    assert "Renamed 610425105: 烟霞镇 → 烟霞街道" in out and "1 renamed, 4 unchanged" in out
    assert _areas(engine)["610425105"].seq > seq


def test_every_bad_row_is_named_and_nothing_is_written(db_url, engine, tmp_path, capsys):
    rows = [
        ("610000", "陕西省"),
        ("610425", "礼泉县"),  # its city 610400 is in neither the file nor the database
        ("61042X", "坏代码"),
        ("610425101", ""),
        ("610425102", "西张堡镇" * 20),
        ("610425103", "阡东\x00镇"),
        ("610425104", "烽火镇"),
        ("610425104000", "烽火镇"),
    ]
    path = tmp_path / "bad.csv"
    path.write_text("代码,名称\n" + "\n".join(f"{c},{n}" for c, n in rows), encoding="utf-8")
    assert cli(db_url, "area", "import", str(path)) == 1
    err = capsys.readouterr().err
    for expected in (
        "Row 3, code: Parent area 610400 does not exist",
        "Row 4, code: Division code '61042X' must be digits",
        "Row 5, name: is required",
        "Row 6, name: is too long: 80 characters, at most 64",
        "Row 7, name: holds an invisible control character",
        "Row 8, code: duplicates row 9",
        "Row 9, code: duplicates row 8",
        "Nothing imported",
    ):
        assert expected in err
    assert _areas(engine) == {}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "old Excel 97-2003"),
        (b"<html><body><table><tr><td>610425</td></tr></table></body></html>", "web page"),
        (b"", "empty"),
    ],
)
def test_files_that_are_no_table_get_a_clear_message(db_url, tmp_path, capsys, content, message):
    path = tmp_path / "areas.xls"
    path.write_bytes(content)
    assert cli(db_url, "area", "import", str(path)) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_area_add_and_rename(db_url, engine, capsys):
    assert cli(db_url, "area", "add", "610425101", "史德镇") == 1
    assert "Parent area 610425 does not exist" in capsys.readouterr().err
    for code, name in (("610000", "陕西省"), ("610400", "咸阳市"), ("610425", "礼泉县")):
        assert cli(db_url, "area", "add", code, name) == 0
    assert (
        cli(db_url, "area", "add", "610425101", "史德镇", "--lat", "34.56", "--lon", "108.42") == 0
    )
    assert "Added township 610425101 史德镇" in capsys.readouterr().out
    assert cli(db_url, "area", "add", "610425101", "别的名字") == 1
    assert "exists (史德镇); rename it instead" in capsys.readouterr().err
    assert cli(db_url, "area", "add", "610425101201", "史德村") == 1
    assert "villages are service points" in capsys.readouterr().err
    assert cli(db_url, "area", "add", "610425102", "坐标", "--lat", "108.4", "--lon", "34.5") == 1
    assert "look swapped" in capsys.readouterr().err
    assert cli(db_url, "area", "rename", "610425101", "史德街道") == 0
    assert cli(db_url, "area", "rename", "999999", "x") == 1
    areas = _areas(engine)
    assert areas["610425101"].name == "史德街道" and areas["610425101"].lat == 34.56
    with Session(engine) as s:
        actions = [a.action for a in s.exec(select(AuditLog).order_by(AuditLog.id))]
    assert actions.count("area.add") == 4 and actions.count("area.rename") == 1


def test_county_options_refuse_a_code_that_is_not_a_county(db_url, tmp_path, capsys):
    for code, name in (("610000", "陕西省"), ("610400", "咸阳市"), ("610425", "礼泉县")):
        assert cli(db_url, "area", "add", code, name) == 0
    assert cli(db_url, "area", "add", "610425101", "史德镇") == 0
    capsys.readouterr()
    template = tmp_path / "t.json"
    from server.domain.templates import load_builtin_templates

    content = load_builtin_templates()["village_point"]
    template.write_text(json.dumps(content, ensure_ascii=False), encoding="utf-8")
    for args in (
        ["template", "params", "village_point", "book_volumes_min=2000", "--county", "610425101"],
        ["template", "load", str(template), "--county", "610425101"],
        [
            "cycle",
            "add",
            "x",
            "--county",
            "610425101",
            "--start",
            "2027-01-01",
            "--end",
            "2027-12-31",
        ],
    ):
        assert cli(db_url, *args) == 1
        assert "610425101 (史德镇) is a township, not a county" in capsys.readouterr().err
    assert (
        cli(
            db_url,
            "template",
            "params",
            "village_point",
            "book_volumes_min=2000",
            "--county",
            "610400",
        )
        == 1
    )
    assert "is a city, not a county" in capsys.readouterr().err
    assert (
        cli(
            db_url,
            "template",
            "params",
            "village_point",
            "book_volumes_min=2000",
            "--county",
            "610425",
        )
        == 0
    )
    capsys.readouterr()
    assert cli(db_url, "template", "list") == 0
    out = capsys.readouterr().out
    assert "610425 礼泉县" in out and "county 3" not in out
