"""Reports read back: every XLSX through openpyxl against the database, PDFs through
pdftotext / pdffonts / pdftoppm, CSV as Excel would open it. For other counties, a city and
the download routes: test_report_scope.py."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from server.cli import main
from server.db import session_scope
from server.domain.templates import parse_template
from server.models import (
    Area,
    Cycle,
    FollowUp,
    Inspection,
    PointSummary,
    ServicePoint,
    TemplateVersion,
)
from server.reports import csv_out, render
from server.services import report_records, reports
from server.services.changes import stamp
from server.services.summaries import refresh_points
from tests.server.counties import add_liquan
from tests.server.report_helpers import TODAY, build, inspect_liquan, qian_cycle

needs_poppler = pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils")


def township_counts(engine, cycle_id):
    """township name -> (active points, inspected points) straight from the tables."""
    with session_scope(engine) as s:
        county = s.get(Area, s.get(Cycle, cycle_id).county_id)
        out = {}
        for t in s.exec(select(Area).where(Area.parent_id == county.id)):
            pts = s.exec(
                select(ServicePoint.id).where(ServicePoint.township_id == t.id, ServicePoint.active)
            ).all()
            if not pts:
                continue
            inspected = s.exec(
                select(PointSummary.point_id).where(
                    PointSummary.cycle_id == cycle_id, PointSummary.point_id.in_(pts)
                )
            ).all()
            out[t.name] = (len(pts), len(inspected))
        return out


def pdf_text(data: bytes, tmp_path, name="r.pdf") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_readiness_xlsx_reads_like_a_hand_in_table(engine, settings, demo):
    cycle = qian_cycle(engine)
    _, data = build(engine, settings, "readiness", "xlsx", cycle=cycle)
    wb = load_workbook(io.BytesIO(data))
    counts = township_counts(engine, cycle)
    assert wb.sheetnames[0] == "汇总"
    assert sorted(wb.sheetnames[1:]) == sorted(counts)
    ws = wb["汇总"]
    assert ws["A1"].value == "乾县迎检准备情况表"
    assert any(str(r).startswith("A1:") for r in ws.merged_cells.ranges)
    assert ws["A2"].value == "填报单位：乾县图书馆"
    assert any(c.value == f"填报日期：{TODAY.isoformat()}" for c in ws[2])
    headers = [c.value for c in ws[3]]
    assert headers[:4] == ["序号", "乡镇（街道）", "服务点数", "已检查"]
    assert ws.freeze_panes == "A4"
    assert ws.print_title_rows == "$1:$3"
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
    # CJK counts double: the township column is wider than its longest name in characters
    assert ws.column_dimensions["B"].width >= 2 * len("乡镇（街道）")
    rows = {
        r[1]: r for r in ws.iter_rows(min_row=4, values_only=True) if r[0] not in (None, "合计")
    }
    for name, (points, inspected) in counts.items():
        assert rows[name][2:4] == (points, inspected), name
    total = next(r for r in ws.iter_rows(min_row=4, values_only=True) if r[0] == "合计")
    assert total[2] == sum(p for p, _ in counts.values())
    assert total[3] == sum(i for _, i in counts.values())
    labels = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert "制表人：" in labels and "审核人：" in labels


def test_readiness_counts_fail_and_overdue_as_the_tables_hold_them(engine, settings, demo):
    cycle = qian_cycle(engine, "current")  # mid-year: follow-ups open, some overdue
    report, _ = build(engine, settings, "readiness", "html", cycle=cycle)
    facts = dict(report.facts)
    with session_scope(engine) as s:
        summaries = s.exec(select(PointSummary).where(PointSummary.cycle_id == cycle)).all()
        follows = s.exec(select(FollowUp).where(FollowUp.cycle_id == cycle)).all()
    fails = sum(p.rating == "fail" for p in summaries)
    open_ = [f for f in follows if f.status != "closed"]
    overdue = [f for f in open_ if f.status == "open" and f.due_date < TODAY]
    assert facts["不达标服务点"] == str(fails)
    assert facts["整改（未销号 / 逾期）"] == f"{len(open_)} / {len(overdue)}" and overdue
    with session_scope(engine) as s:
        assessment = s.get(Cycle, cycle).assessment_date
    assert facts["距考核日"] == f"{(assessment - TODAY).days} 天"
    ready = [
        p
        for p in summaries
        if p.rating in ("good", "basic")
        and p.evidence_complete
        and not any(f.point_id == p.point_id for f in overdue)
        and not any(x["code"] == "photos_short" for x in p.failed)
    ]
    total = report.tables[0].totals()
    assert total[-2] == len(ready)
    assert facts["迎检就绪率"] == f"{len(ready) / total[1] * 100:.1f}%"


def test_days_left_count_down_to_the_assessment_date(engine, settings, demo):
    cycle = qian_cycle(engine)
    with session_scope(engine, write=True) as s:
        c = s.get(Cycle, cycle)
        c.assessment_date = TODAY + timedelta(days=14)
        stamp(s, c)
    report, _ = build(engine, settings, "readiness", "html", cycle=cycle)
    assert dict(report.facts)["距考核日"] == "14 天"


@needs_poppler
def test_followups_pdf_and_xlsx_of_a_township(engine, settings, demo, tmp_path):
    cycle = qian_cycle(engine)
    with session_scope(engine) as s:
        township = s.exec(select(Area).where(Area.code == "610424101")).one()
        pts = {
            p.id: p
            for p in s.exec(select(ServicePoint).where(ServicePoint.township_id == township.id))
        }
        follows = s.exec(
            select(FollowUp).where(FollowUp.cycle_id == cycle, FollowUp.point_id.in_(list(pts)))
        ).all()
    assert follows, "the demo opens follow-ups in 薛录镇"
    _, data = build(engine, settings, "followups", "xlsx", cycle=cycle, area="610424101")
    wb = load_workbook(io.BytesIO(data))
    ws = wb["薛录镇"]
    assert [c.value for c in ws[3]][:3] == ["序号", "服务点", "存在问题"]
    body = [r for r in ws.iter_rows(min_row=4, values_only=True) if isinstance(r[0], int)]
    assert len(body) == len(follows)
    statuses = [r[7] for r in body]
    # overdue first
    assert statuses == sorted(statuses, key=lambda s: s != "逾期")
    assert {r[6] for r in body} == {f.due_date.isoformat() for f in follows}
    pdf = build(engine, settings, "followups", "pdf", cycle=cycle, area="610424101")[1]
    text = pdf_text(pdf, tmp_path)
    assert "薛录镇存在问题整改清单" in text
    assert "整改时限" in text and "责任人" in text
    assert "第 1 页" not in text  # the cover carries no number
    assert "第 2 页，共" in text
    fonts = subprocess.run(
        ["pdffonts", str(tmp_path / "r.pdf")], capture_output=True, text=True
    ).stdout
    assert "WenQuanYi" in fonts and " yes yes " in fonts  # embedded subset
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "40",
            "-png",
            "-f",
            "2",
            "-l",
            "2",
            str(tmp_path / "r.pdf"),
            str(tmp_path / "page"),
        ],
        check=True,
    )
    assert list(tmp_path.glob("page*.png"))


def test_scores_follow_the_template_points(engine, settings, demo):
    cycle = qian_cycle(engine)
    _, data = build(engine, settings, "scores", "xlsx", cycle=cycle)
    wb = load_workbook(io.BytesIO(data))
    with session_scope(engine) as s:
        rows = s.exec(
            select(PointSummary, ServicePoint, TemplateVersion)
            .join(ServicePoint, ServicePoint.id == PointSummary.point_id)
            .join(TemplateVersion, TemplateVersion.id == PointSummary.template_version_id)
            .where(PointSummary.cycle_id == cycle)
        ).all()
        townships = {a.id: a.name for a in s.exec(select(Area))}
    assert rows
    checked = 0
    for summary, point, version in rows:
        tpl = parse_template(version.content)
        earned = possible = 0.0
        for item in tpl.items:
            if item.score is None or item.key not in summary.items:
                continue
            possible += item.score.points
            ok = summary.items[item.key] == "p"
            earned += item.score.points if ok else max(0, item.score.points - item.score.deduct)
        ws = wb[townships[point.township_id]]
        head = [c.value for c in ws[3]]
        row = next(r for r in ws.iter_rows(min_row=4, values_only=True) if r[1] == point.name)
        assert row[head.index("得分")] == pytest.approx(earned)
        assert row[head.index("满分")] == pytest.approx(possible)
        checked += 1
    assert checked == len(rows)
    summary_ws = wb["汇总"]
    total = next(r for r in summary_ws.iter_rows(min_row=4, values_only=True) if r[0] == "合计")
    assert total[3] == len(rows)  # scored points


def test_book_needs_against_the_county_thresholds(engine, settings, demo):
    cycle = qian_cycle(engine)
    _report, data = build(engine, settings, "book-needs", "xlsx", cycle=cycle)
    wb = load_workbook(io.BytesIO(data))
    with session_scope(engine) as s:
        pairs = s.exec(
            select(PointSummary, Inspection, ServicePoint, TemplateVersion)
            .join(Inspection, Inspection.id == PointSummary.inspection_id)
            .join(ServicePoint, ServicePoint.id == PointSummary.point_id)
            .join(TemplateVersion, TemplateVersion.id == Inspection.template_version_id)
            .where(PointSummary.cycle_id == cycle)
        ).all()
        townships = {a.id: a.name for a in s.exec(select(Area))}
    short_total = 0
    for _, insp, point, version in pairs:
        need = version.content["params"]["book_volumes_min"]
        have = insp.answers.get("book_volumes")
        ws = wb[townships[point.township_id]]
        head = [c.value for c in ws[3]]
        row = next(r for r in ws.iter_rows(min_row=4, values_only=True) if r[1] == point.name)
        assert row[head.index("图书标准（册）")] == need
        if isinstance(have, int | float):
            assert row[head.index("图书缺额（册）")] == max(0, round(need - have))
            short_total += max(0, round(need - have))
    total = next(r for r in wb["汇总"].iter_rows(min_row=4, values_only=True) if r[0] == "合计")
    head = [c.value for c in wb["汇总"][3]]
    assert total[head.index("图书缺额（册）")] == short_total


def test_answers_csv_opens_in_excel(engine, settings, demo):
    cycle = qian_cycle(engine)
    _, data = build(engine, settings, "answers", "csv", cycle=cycle)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    with session_scope(engine) as s:
        insps = s.exec(
            select(Inspection).where(Inspection.cycle_id == cycle, Inspection.status == "submitted")
        ).all()
    assert len(rows) - 1 == len(insps)
    head = rows[0]
    assert head[0] == "序号" and "图书册数" in head and "检查记录编号" in head
    by_id = {r[head.index("检查记录编号")]: r for r in rows[1:]}
    for i in insps:
        value = i.answers.get("book_volumes")
        cell = by_id[i.id][head.index("图书册数")]
        assert cell == ("" if value is None else str(value))


def _csv_before_streaming(report) -> bytes:
    """The CSV writer as it was before it streamed (every row held, one string), kept to
    prove the streamed bytes are the same."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    table = report.tables[0]
    head = [report.labels.seq] if table.numbered else []
    writer.writerow(head + [c.header for c in table.columns])
    for seq, row in enumerate(table.rows, start=1):
        cells = ["" if v is None else v for v in row]
        writer.writerow(([seq] if table.numbered else []) + cells)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def test_answers_csv_streams_the_same_bytes(engine, settings, demo, monkeypatch):
    """Read three inspections at a time and written in pieces of 200 characters: the same
    bytes as the whole table written at once, and no row held. Qian's last-year cycle (many
    rows) and a city of two counties (a county column)."""
    liquan = add_liquan(engine)
    inspect_liquan(engine, liquan["points"][1], 900)
    monkeypatch.setattr(report_records, "CHUNK", 3)
    monkeypatch.setattr(csv_out, "PIECE", 200)
    for cycle, code, rows in ((qian_cycle(engine), None, 9), (None, "610400", 0)):
        with session_scope(engine) as s:
            area = reports.area_by_code(s, code) if code else None
            ask = lambda fmt: reports.Request("answers", fmt, cycle, area, "zh-CN", TODAY, None)  # noqa: E731, B023
            whole = reports.build(s, ask("xlsx"))
            streamed = reports.build(s, ask("csv"))
            assert streamed.tables[0].stream is not None and streamed.tables[0].rows == []
            pieces = list(csv_out.csv_chunks(streamed))
        assert len(whole.tables[0].rows) > rows
        assert len(pieces) > 2 + rows // 3
        data = b"".join(pieces)
        assert data == _csv_before_streaming(whole)
    assert "礼泉县" in data.decode("utf-8-sig")
    with pytest.raises(ValueError, match="CSV only"):
        render(streamed, "xlsx")


def test_cli_writes_a_csv_as_it_reads(db_url, engine, settings, demo, tmp_path, monkeypatch):
    monkeypatch.setenv("XUNJIAN_DATA_DIR", str(settings.data_path))
    cycle = qian_cycle(engine)
    out = tmp_path / "out" / "answers.csv"
    argv = ["--database-url", db_url, "report", "--kind", "answers", "--format", "csv"]
    argv += ["--cycle", str(cycle), "--today", TODAY.isoformat(), "-o", str(out), "--quiet"]
    assert main(argv) == 0
    with session_scope(engine) as s:
        req = reports.Request("answers", "xlsx", cycle, None, "zh-CN", TODAY, None)
        whole = reports.build(s, req)
    assert len(whole.tables[0].rows) > 9
    assert out.read_bytes() == _csv_before_streaming(whole)
    assert [p.name for p in out.parent.iterdir()] == ["answers.csv"]  # no .part left


@needs_poppler
def test_ledger_pdf_lists_each_point_with_its_photos(engine, settings, demo, tmp_path):
    cycle = qian_cycle(engine)
    report, pdf = build(engine, settings, "ledger", "pdf", cycle=cycle, area="610424101")
    with session_scope(engine) as s:
        names = s.exec(
            select(ServicePoint.name)
            .join(PointSummary, PointSummary.point_id == ServicePoint.id)
            .join(Area, Area.id == ServicePoint.township_id)
            .where(PointSummary.cycle_id == cycle, Area.code == "610424101")
        ).all()
    text = pdf_text(pdf, tmp_path, "ledger.pdf")
    assert "薛录镇检查佐证台账" in text
    for name in names:
        assert name in text
    assert "统一标牌" in text and "合格" in text
    images = subprocess.run(
        ["pdfimages", "-list", str(tmp_path / "ledger.pdf")], capture_output=True, text=True
    ).stdout.splitlines()[2:]
    held = sum(len(it.photos) for e in report.ledger for it in e.items)
    assert held > 0 and len(images) == held
    # downscaled for print: no image wider than the renderer's limit
    assert all(int(line.split()[3]) <= 1000 for line in images)


def test_ledger_refuses_a_spreadsheet(engine, settings, demo):
    from server.errors import BadRequest

    with pytest.raises(BadRequest) as exc:
        build(engine, settings, "ledger", "xlsx", cycle=qian_cycle(engine))
    assert exc.value.code == "report_format"


def test_followups_list_shows_fixed_and_closed_as_the_lists_do(engine, settings, demo):
    cycle = qian_cycle(engine, "current")
    with session_scope(engine, write=True) as s:
        township = s.exec(select(Area).where(Area.code == "610424111")).one()
        pts = s.exec(select(ServicePoint.id).where(ServicePoint.township_id == township.id)).all()
        f = s.exec(  # one of 上旦's and 席家's, overdue since the summer's guidance visit
            select(FollowUp).where(
                FollowUp.cycle_id == cycle,
                FollowUp.point_id.in_(pts),
                FollowUp.status == "open",
                FollowUp.due_date < TODAY,
            )
        ).first()
        f.status = "fixed"
        stamp(s, f)
        refresh_points(s, {f.point_id})
        fixed_id = f.id
    _report, data = build(engine, settings, "followups", "xlsx", cycle=cycle, area="610424111")
    ws = load_workbook(io.BytesIO(data))["阳洪镇"]
    states = [r[7] for r in ws.iter_rows(min_row=4, values_only=True) if isinstance(r[0], int)]
    readiness, _ = build(engine, settings, "readiness", "html", cycle=cycle, area="610424111")
    # a fixed follow-up is pending, not overdue
    with session_scope(engine) as s:
        pending = s.exec(
            select(FollowUp).where(
                FollowUp.cycle_id == cycle,
                FollowUp.point_id.in_(pts),
                FollowUp.status != "closed",
            )
        ).all()
    overdue = [p for p in pending if p.status == "open" and p.due_date < TODAY]
    assert fixed_id in {p.id for p in pending}
    assert states.count("已整改待复查") == sum(p.status == "fixed" for p in pending)
    assert states.count("逾期") == len(overdue) > 0
    assert states.index("已整改待复查") > max(i for i, s in enumerate(states) if s == "逾期")
    tot = readiness.tables[0].totals()
    head = [c.header for c in readiness.tables[0].columns]
    assert tot[head.index("未销号整改")] == len(pending)
    assert tot[head.index("逾期整改")] == len(overdue)
