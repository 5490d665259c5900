"""Reports for any county and any scope: a county that is not Qian, a city with two
counties, English; the download routes' login and which county each supervisor sees."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlmodel import select

from server.db import session_scope
from server.models import ServicePoint
from tests.demo_cycles import demo_cycle
from tests.logins import web_login
from tests.server.counties import add_liquan
from tests.server.report_helpers import build, inspect_liquan, qian_cycle


def test_a_county_that_is_not_qian(engine, settings, demo):
    liquan = add_liquan(engine)
    inspect_liquan(engine, liquan["points"][1], 900)
    _report, data = build(engine, settings, "book-needs", "xlsx", cycle=liquan["cycle_id"])
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["汇总", "城关镇", "史德镇"]
    assert wb["汇总"]["A1"].value == "礼泉县图书配送需求表"
    assert wb["汇总"]["A2"].value == "填报单位：礼泉县图书馆"
    head = [c.value for c in wb["城关镇"][3]]
    row = next(
        r for r in wb["城关镇"].iter_rows(min_row=4, values_only=True) if r[1] == "东关村服务点"
    )
    assert row[head.index("图书缺额（册）")] == 600
    text = " ".join(str(c.value) for row in wb.worksheets[0].iter_rows() for c in row)
    assert "乾县" not in text


def test_a_city_with_two_counties(engine, settings, demo):
    add_liquan(engine)
    _report, data = build(engine, settings, "readiness", "xlsx", area="610400")
    wb = load_workbook(io.BytesIO(data))
    ws = wb["汇总"]
    head = [c.value for c in ws[3]]
    assert head[1:3] == ["县（区）", "乡镇（街道）"]
    counties = {r[1] for r in ws.iter_rows(min_row=4, values_only=True) if isinstance(r[0], int)}
    assert counties == {"乾县", "礼泉县"}
    # both counties have a 城关 township sheet, told apart by the county
    assert "礼泉县城关镇" in wb.sheetnames and "乾县城关街道" in wb.sheetnames
    total = next(r for r in ws.iter_rows(min_row=4, values_only=True) if r[0] == "合计")
    with session_scope(engine) as s:
        active = len(s.exec(select(ServicePoint.id).where(ServicePoint.active)).all())
    assert total[head.index("服务点数")] == active


def test_english_report(engine, settings, demo):
    report, _ = build(engine, settings, "followups", "html", cycle=qian_cycle(engine), lang="en")
    assert report.tables[0].title == "乾县: list of fixes"
    assert report.labels.total == "Total"


# -- the download routes


def test_reports_page_needs_a_login(client, demo):
    r = client.get("/reports", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    r = client.get("/reports/download?kind=readiness&format=csv", follow_redirects=False)
    assert r.status_code == 303


def test_reports_page_offers_every_kind(office, engine):
    r = office.get("/reports")
    assert r.status_code == 200
    assert 'href="/reports"' in r.text  # in the nav
    assert "kind=ledger&amp;format=pdf" in r.text
    assert "kind=ledger&amp;format=xlsx" not in r.text
    with session_scope(engine) as s:
        assert demo_cycle(s, "current").name in r.text and demo_cycle(s, "previous").name in r.text


def test_download_matches_the_cli_content(office, engine, settings):
    cycle = qian_cycle(engine)
    r = office.get(f"/reports/download?kind=readiness&format=xlsx&area=610424&cycle={cycle}")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in r.headers["content-disposition"]
    web = load_workbook(io.BytesIO(r.content))
    _, data = build(engine, settings, "readiness", "xlsx", cycle=cycle)
    cli = load_workbook(io.BytesIO(data))
    assert web.sheetnames == cli.sheetnames
    strip = lambda ws: [r for r in ws.iter_rows(min_row=3, values_only=True)]  # noqa: E731
    assert strip(web["汇总"]) == strip(cli["汇总"])


def test_download_refuses_bad_input_without_a_trace(office, engine):
    r = office.get("/reports/download?kind=nonsense&format=xlsx")
    assert r.status_code == 400 and "Traceback" not in r.text
    r = office.get("/reports/download?kind=readiness&format=xlsx&cycle=abc")
    assert r.status_code == 400
    r = office.get("/reports/download?kind=readiness&format=xlsx&cycle=99999")
    assert r.status_code == 404


def test_another_countys_supervisor_sees_only_their_county(client, engine, demo):
    liquan = add_liquan(engine)
    assert web_login(client, "lq_supervisor").status_code == 303
    qian = qian_cycle(engine)
    # Qian's cycle is refused, even when Qian is asked for (the area falls back to 礼泉县)
    r = client.get(f"/reports/download?kind=readiness&format=csv&area=610424&cycle={qian}")
    assert r.status_code == 404
    r = client.get("/reports/download?kind=readiness&format=csv&area=610424")
    assert r.status_code == 200
    text = r.content.decode("utf-8-sig")
    assert "城关镇" in text and "薛录镇" not in text
    r = client.get(f"/reports?cycle={liquan['cycle_id']}")
    with session_scope(engine) as s:
        assert demo_cycle(s, "previous").name not in r.text
