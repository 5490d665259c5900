"""The checklist as a first-time user meets it: no verdict before the first answer; the ★ of a
key item explained on the screen (phones have no hover); 24-hour times in Chinese; before
submitting, every reason the point would not be 达标 (blank items, missing evidence photos,
failing answers) with what submitting anyway does; a warning on a point already inspected
today. Screens in both languages."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import Phone, _serve
from tests.e2e.test_colleague_visits import _colleague_submits, _sync_now
from tests.e2e.test_field_app import open_point, start_inspection, submit
from tests.e2e.test_shared_phone import _points

pytestmark = pytest.mark.browser

PANEL = "section[role=alert]"


def _free_points(server) -> list[tuple[str, str]]:
    """Points no other browser test uses (the shared-phone test takes the first three)."""
    return _points(server, 7)[3:]


def test_form_says_nothing_before_the_first_answer_and_lists_every_reason(make_phone, live_server):
    (_, name), *_ = _free_points(live_server)
    phone = make_phone()
    page = phone.goto()
    phone.login()
    open_point(page, name)
    start_inspection(page)
    summary = page.inner_text(".sticky")
    assert "还没有填写" in summary and "暂评" not in summary and "不达标" not in summary
    assert page.locator(".sticky .tag").count() == 0
    # the ★ is explained in words on the screen, and read out beside each key item
    assert "★ 关键项" in page.inner_text(".legend") and "不达标" in page.inner_text(".legend")
    assert page.locator("#item-reading_room .crit .vh").inner_text() == "关键项"
    phone.shot("30-form-empty")

    page.fill("#item-area_m2 input", "5")  # fails: below 20
    assert "暂评" in page.inner_text(".sticky")
    page.click("#item-reading_room .opt:nth-child(1) label")  # 是, but its photo is missing
    page.click("button:has-text('提交检查')")
    panel = page.locator(PANEL)
    text = panel.inner_text()
    assert "评不上“达标”" in text
    assert re.search(r"必填项还没有填（\d+）", text) and "图书册数 ★" in text
    assert "缺少证明照片（1）" in text and "阅览场所 ★：照片不足：已拍 0 张，需要 1 张" in text
    assert "不合格（1）" in text and "场所面积：5，低于标准 20" in text
    assert "仍然提交会怎样" in text and "不开整改单" in text and "不能再修改" in text
    assert panel.locator("button:has-text('仍然提交')").count() == 1
    panel.scroll_into_view_if_needed()
    phone.shot("31-form-review-panel")
    # a line of the list leads to its item
    panel.locator("button.linkish:has-text('场所面积')").click()
    assert page.evaluate("document.activeElement.closest('.item')?.id") == "item-area_m2"

    # opening hours are typed and shown in 24-hour form; so is every time on the screen
    page.click("#item-opening_hours button:has-text('+ 周一时段')")
    page.click("#item-opening_hours button:has-text('+ 周一时段')")
    times = page.locator("#item-opening_hours input.time")
    assert [times.nth(i).input_value() for i in range(4)] == ["08:30", "12:00", "14:30", "17:30"]
    times.nth(3).fill("1800")
    page.locator("#item-opening_hours .total").click()  # leave the field
    assert times.nth(3).input_value() == "18:00"
    assert re.search(r"已自动保存 \d\d:\d\d$", page.inner_text(".saved"))
    assert not re.search(r"AM|PM|上午|下午", page.inner_text("main"))
    page.locator("#item-opening_hours .range").first.evaluate(
        "e => e.scrollIntoView({block: 'center'})"
    )
    phone.shot("32-form-hours-24h")


def test_review_panel_in_english(make_phone, live_server):
    (_, name) = _free_points(live_server)[1]
    phone = make_phone()
    page = phone.goto()
    phone.login()
    page.goto(page.url.split("#")[0] + "#/settings")
    page.select_option("#lang", "en")
    page.wait_for_selector("h2:has-text('Settings')")
    page.goto(page.url.split("#")[0] + "#/home")
    page.fill("#search", name)
    page.click("a.point")
    page.click("button:has-text('Start inspection')")
    page.wait_for_selector(".item")
    assert "Nothing answered yet" in page.inner_text(".sticky")
    page.fill("#item-area_m2 input", "5")
    page.click("button:has-text('Submit inspection')")
    text = page.inner_text(PANEL)
    assert "would not be rated “Good”" in text and "If you submit anyway:" in text
    assert not re.search(r"[\u3400-\u9fff]", text), text
    page.locator(PANEL).scroll_into_view_if_needed()
    phone.shot("33-form-review-panel-en")


@pytest.fixture(scope="module")
def quiet_server(tmp_path_factory):
    """A demo nobody else inspects today (the shared server's other tests inspect every
    village point, so 'inspected today' is already true there)."""
    server = _serve(tmp_path_factory, demo=True)
    yield server
    server.stop()


def test_a_point_inspected_today_says_so_before_another_starts(pw, phone, quiet_server, tmp_path):
    (code, name) = _free_points(quiet_server)[2]
    p = Phone(pw, tmp_path / "today", phone, quiet_server)
    page = p.launch()
    try:
        p.goto()
        p.login()
        open_point(page, name)
        assert page.locator(".today").count() == 0
        _colleague_submits(quiet_server, code)
        _sync_now(page)
        open_point(page, name)
        warn = page.inner_text(".today")
        assert "刘凯妮" in warn and "今天" in warn and re.search(r"\d\d:\d\d", warn)
        p.shot("34-point-inspected-today")
        # and after my own submission, it says I was here today
        start_inspection(page)
        page.fill("#item-area_m2 input", "30")
        submit(page)
        open_point(page, name)
        assert "您今天" in page.inner_text(".today")
    finally:
        p.close()


def test_an_unfinished_checklist_is_rated_incomplete_and_opens_no_follow_up(
    pw, phone, quiet_server, tmp_path
):
    """仍然提交 with most items blank: the panel says 未完成 and that blanks open nothing; the
    server keeps it as incomplete, with one 限期整改 for the one failing answer only."""
    (code, name) = _free_points(quiet_server)[3]
    p = Phone(pw, tmp_path / "incomplete", phone, quiet_server)
    page = p.launch()
    try:
        p.goto()
        p.login()
        open_point(page, name)
        start_inspection(page)
        page.fill("#item-area_m2 input", "30")
        page.fill("#item-seats input", "2")  # below 8: the one failing answer
        page.fill("#item-manager input", "张秀兰")  # its rule needs the phone, left blank
        assert "暂评：未完成" in page.inner_text(".sticky")
        page.click("button:has-text('提交检查')")
        panel = page.locator(PANEL)
        assert panel.locator(".tag").inner_text() == "未完成"
        text = panel.inner_text()
        assert "没有填的项目记为“未检查”，不开整改单" in text
        assert "1 个不合格项" in text and "单独计数" in text
        assert "管理员 ★：管理员电话：先填这一项才能判定" in text  # waits, does not fail
        p.shot("35-form-review-incomplete")
        panel.locator("button:has-text('仍然提交')").click()
        page.wait_for_selector("h2:has-text('待同步')")
        _sync_now(page)
        rows = quiet_server.query(
            "SELECT i.id, i.rating FROM inspection i JOIN service_point p ON p.id = i.point_id "
            "WHERE p.code = ? AND i.status = 'submitted' AND i.device_id <> 'demo-device' "
            "AND i.cycle_id = (SELECT id FROM cycle WHERE current)",
            (code,),
        )
        # this phone's inspection (the demo's own visits this cycle are left out)
        assert [r[1] for r in rows] == ["incomplete"]
        opened = quiet_server.query(
            "SELECT item_key FROM follow_up WHERE opened_by = ?", (rows[0][0],)
        )
        assert opened == [("seats",)]
    finally:
        p.close()


def test_numbers_say_what_is_wrong_and_ask_about_a_typo(pw, phone, quiet_server, tmp_path):
    """A negative count says 不能为负数, a decimal count 必须是整数 (both stop the submit); a
    count above the template's plausible bound is kept but asked about before submitting."""
    (_, name) = _free_points(quiet_server)[0]
    p = Phone(pw, tmp_path / "numbers", phone, quiet_server)
    page = p.launch()
    try:
        p.goto()
        p.login()
        open_point(page, name)
        start_inspection(page)
        status = page.locator("#item-seats .status")
        assert page.inner_text("#item-seats .help") == "不少于 8 个座位。"  # no drafting note
        page.fill("#item-seats input", "-3")
        assert "不能为负数" in status.inner_text() and "无效" not in status.inner_text()
        assert page.get_attribute("#item-seats input", "aria-invalid") == "true"
        page.fill("#item-seats input", "8.5")
        assert "必须是整数" in status.inner_text()
        assert page.get_attribute("#item-seats input", "step") == "1"
        page.click("button:has-text('提交检查')")
        assert "阅览座位：必须是整数" in page.inner_text(PANEL)
        assert page.locator(f"{PANEL} button:has-text('仍然提交')").count() == 0
        p.shot("36-form-number-not-whole")

        page.fill("#item-seats input", "99999999")
        assert "太大了，请核对" in status.inner_text() and "合格" in status.inner_text()
        page.fill("#item-area_m2 input", "20.5")  # an area may have decimals
        assert "合格" in page.inner_text("#item-area_m2 .status")
        page.click("button:has-text('提交检查')")
        text = page.inner_text(PANEL)
        assert "数字可能填错了（1）" in text and "阅览座位：99,999,999 太大了" in text
        assert page.locator(f"{PANEL} button:has-text('仍然提交')").count() == 1
        page.locator(PANEL).scroll_into_view_if_needed()
        p.shot("37-form-number-implausible")
    finally:
        p.close()
