"""/reports in a desktop Chromium: the page, a download through its button, and the print
HTML report as a browser shows it. Screenshots in test-artifacts/screens/reports-*.png, to
be looked at."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from tests.demo_cycles import CYCLE_SQL
from tests.e2e.conftest import ARGS, CHROMIUM, PASSWORD, SCREENS, _serve
from tests.server.test_i18n import assert_one_language

pytestmark = pytest.mark.browser

DESKTOP = {
    "viewport": {"width": 1280, "height": 800},
    "locale": "zh-CN",
    "timezone_id": "Asia/Shanghai",
    "accept_downloads": True,
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = _serve(tmp_path_factory, demo=True)
    yield s
    s.stop()


def test_reports_page_download_and_print_html(pw, server, tmp_path):
    browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
    try:
        page = browser.new_context(**DESKTOP).new_page()
        page.goto(server.url + "/login?next=/reports")
        page.fill("#username", "supervisor")
        page.fill("#password", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url("**/reports")
        cycle = server.query(CYCLE_SQL["previous"])[0][0]  # last year's, complete
        page.select_option("#cycle-pick", str(cycle))
        page.click(".cycle-pick button")
        page.wait_for_url(f"**/reports?area=610424&cycle={cycle}")
        assert_one_language(page.content(), "zh-CN")
        SCREENS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENS / "reports-page.png"), full_page=True)

        with page.expect_download() as info:
            page.click("a[href*='kind=readiness&format=xlsx']")
        path = tmp_path / "readiness.xlsx"
        info.value.save_as(path)
        wb = load_workbook(io.BytesIO(path.read_bytes()))
        assert wb["汇总"]["A1"].value == "乾县迎检准备情况表"
        inspected = server.query("SELECT COUNT(*) FROM point_summary WHERE cycle_id = ?", (cycle,))[
            0
        ][0]
        total = next(r for r in wb["汇总"].iter_rows(values_only=True) if r[0] == "合计")
        assert total[3] == inspected

        with page.expect_download() as info:
            page.click("a[href*='kind=followups&format=html']")
        html = tmp_path / "followups.html"
        info.value.save_as(html)
        report = page.context.new_page()
        report.goto(html.as_uri())
        assert "乾县存在问题整改清单" in report.content()
        report.screenshot(path=str(SCREENS / "reports-followups-html.png"), full_page=False)
    finally:
        browser.close()
