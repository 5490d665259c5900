"""Follow-ups in the browser: the supervisor's list and detail at desktop size (closing one
on an uploaded photo), and on a phone (Pixel 7) the point's open follow-ups before the visit
and the re-inspection form opening on the items to re-check. Screenshots in
test-artifacts/screens/followups-*.png and /tmp/shots/field/, to be looked at."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.e2e.conftest import ARGS, CHROMIUM, PASSWORD, PHOTO, SCREENS, _serve
from tests.server.test_i18n import assert_one_language

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots/field")
DESKTOP = {
    "viewport": {"width": 1280, "height": 800},
    "locale": "zh-CN",
    "timezone_id": "Asia/Shanghai",
}


def _shot(page, name: str, full: bool = True) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    path = SCREENS / f"followups-{name}.png"
    page.screenshot(path=str(path), full_page=full)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SHOTS / path.name)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = _serve(tmp_path_factory, demo=True)
    yield s
    s.stop()


def _open_follow_up(server, username: str) -> tuple[int, str, str, str]:
    """(id, point code, point name, item key) of an open follow-up in the user's area."""
    rows = server.query(
        "WITH RECURSIVE sub(id) AS (SELECT area_id FROM user WHERE username = ? "
        "UNION SELECT a.id FROM area a JOIN sub ON a.parent_id = sub.id) "
        "SELECT f.id, p.code, p.name, f.item_key FROM follow_up f "
        "JOIN service_point p ON p.id = f.point_id "
        "WHERE f.status = 'open' AND p.active AND p.township_id IN (SELECT id FROM sub) "
        "ORDER BY f.due_date DESC, f.id",
        (username,),
    )
    assert rows, f"the demo has open follow-ups in {username}'s area"
    return rows[0]


def test_supervisor_lists_and_closes_one_on_a_photo(pw, server):
    fid, code, name, _ = _open_follow_up(server, "supervisor")
    browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
    try:
        page = browser.new_context(**DESKTOP).new_page()
        page.goto(server.url + "/login?next=/followups")
        page.fill("#username", "supervisor")
        page.fill("#password", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url("**/followups")
        assert_one_language(page.content(), "zh-CN")
        states = page.locator("tbody tr td:first-child").all_inner_texts()
        assert states and states[0].strip() == "已逾期", "overdue first"
        _shot(page, "list")
        page.goto(f"{server.url}/followups?point={code}")
        assert name in page.content()
        page.goto(f"{server.url}/followups/{fid}")
        _shot(page, "detail")
        page.set_input_files("#photo", str(PHOTO))
        page.fill("#cnote", "新书已上架，照片为证")
        page.click("button:has-text('凭照片销号')")
        page.wait_for_selector("p.notice.ok")
        assert "已销号" in page.content() and page.locator(".thumbs img").count() == 1
        _shot(page, "closed")
        page.goto(server.url + "/followups?lang=en")
        assert_one_language(page.content(), "en")
    finally:
        browser.close()
    assert server.query("SELECT status FROM follow_up WHERE id = ?", (fid,)) == [("closed",)]
    audit = server.query("SELECT action FROM audit_log WHERE target_id = ?", (str(fid),))
    assert ("followup.close_evidence",) in audit


def test_phone_shows_follow_ups_and_the_re_inspection_form(make_phone, live_server):
    fid, code, _, item = _open_follow_up(live_server, "inspector")
    live_server.execute("UPDATE follow_up SET responsible = '王秀兰' WHERE id = ?", (fid,))
    phone = make_phone("fu")
    page = phone.goto()
    phone.wait_sw_activated()
    phone.login()
    page.goto(page.url.split("#")[0] + f"#/point/{code}")
    page.wait_for_selector("ul.fus li.fu")
    lines = page.locator("ul.fus li.fu").all_inner_texts()
    assert any("王秀兰" in ln for ln in lines), lines
    assert any(re.search(r"限 .+ 前整改", ln) for ln in lines), lines
    phone.shot("followups-point")
    _shot(page, "phone-point", full=False)
    page.click("button:has-text('复查')")
    page.wait_for_selector("section.recheck .item")
    assert "复查" in page.locator("h2").inner_text()
    first = page.locator("form.checklist > section").first
    assert "recheck" in (first.get_attribute("class") or "")
    assert first.locator(f"#item-{item}").count() == 1, "the follow-up's item comes first"
    assert page.locator(f"#item-{item}").count() == 1, "and only once"
    _shot(page, "phone-recheck", full=False)
