"""On the phone, a colleague's visit counts: after 刘凯妮 inspects one of 宋瞾静's points, 宋瞾静's
home list shows it inspected this cycle, with the date, the rating and who; the point page's
history has the visit, named. And a point closed while a new inspection of it waited on the
phone: the outbox says why the server refused it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from tests.e2e.conftest import PASSWORD
from tests.e2e.test_field_app import open_point, start_inspection, submit

pytestmark = pytest.mark.browser

# points other browser tests work on, left alone here
TAKEN = ("官地", "梁山", "小留", "巨州", "董城")


def _my_points(server, n: int) -> list[tuple[str, str]]:
    """(code, name) of n points the demo assigns to `inspector` this cycle and nobody has
    inspected in it yet (the demo is mid-year: its main round left some township branches)."""
    rows = server.query(
        "SELECT p.code, p.name FROM service_point p "
        "JOIN assignment a ON a.point_id = p.id JOIN user u ON u.id = a.inspector_id "
        "JOIN cycle c ON c.id = a.cycle_id "
        "WHERE u.username = 'inspector' AND c.current AND p.active AND NOT EXISTS ("
        "  SELECT 1 FROM inspection i WHERE i.point_id = p.id AND i.cycle_id = c.id"
        "  AND i.status = 'submitted') "
        "ORDER BY p.code DESC"
    )
    return [r for r in rows if not any(t in r[1] for t in TAKEN)][:n]


def _colleague_submits(server, code: str) -> None:
    device = "d-colleague-" + uuid.uuid4().hex[:8]
    token = server.login("inspector2", device, PASSWORD)
    ((kind,),) = server.query("SELECT kind FROM service_point WHERE code = ?", (code,))
    key = "village_point" if kind == "village" else "township_branch"
    (cycle,), (version,) = (
        server.query("SELECT id FROM cycle WHERE current")[0],
        server.query(
            "SELECT MAX(v.version) FROM template_version v "
            "JOIN checklist_template t ON t.id = v.template_id WHERE t.key = ?",
            (key,),
        )[0],
    )
    now = datetime.now(UTC)
    rid = str(uuid.uuid4())
    data = {
        "id": rid,
        "point_code": code,
        "template_key": key,
        "template_version": version,
        "cycle_id": cycle,
        "status": "submitted",
        "answers": {"book_volumes": 900},
        "photos": [],
        "gps": None,
        "notes": "",
        "started_at": now.isoformat(),
        "submitted_at": now.isoformat(),
        "device_id": device,
    }
    op = {
        "op_id": str(uuid.uuid4()),
        "type": "inspection.put",
        "record_id": rid,
        "base_rev": 0,
        "hlc": f"{int(now.timestamp() * 1000):016d}:0000:{device}",
        "data": data,
    }
    body = {"protocol": 1, "device_id": device, "cursor": None, "ops": [op]}
    assert server.post("/api/sync", body, token)["acks"][0]["status"] == "applied"


def _set_active(server, code: str, active: bool) -> None:
    """Open or close a point as an import does: with a new change number."""
    server.execute("UPDATE change_counter SET value = value + 1 WHERE id = 1")
    server.execute(
        "UPDATE service_point SET active = ?, "
        "seq = (SELECT value FROM change_counter WHERE id = 1) WHERE code = ?",
        (int(active), code),
    )


def _sync_now(page) -> None:
    page.goto(page.url.split("#")[0] + "#/outbox")
    page.click("button:has-text('立即同步')")  # disabled till the run ends
    page.wait_for_selector("button:has-text('立即同步'):not([disabled])", timeout=30_000)


def _home_row(page, name: str):
    page.goto(page.url.split("#")[0] + "#/home")
    page.fill("#search", name)
    return page.locator(f"a.point:has-text('{name}')")


def test_a_colleagues_visit_shows_on_my_list_and_the_point(make_phone, live_server):
    (code, name), (closing, closing_name) = _my_points(live_server, 2)
    phone = make_phone()
    page = phone.goto()
    phone.login()
    row = _home_row(page, name)
    assert "本轮未检" in row.inner_text()

    _colleague_submits(live_server, code)
    _sync_now(page)
    row = _home_row(page, name)
    page.wait_for_selector(f"a.point:has-text('{name}') .tag.done")
    text = row.inner_text()
    assert "本轮已检" in text and "刘凯妮" in text and "不达标" in text
    phone.shot("19-home-colleague-visit")
    row.click()
    page.wait_for_selector("ul.hists")
    history = page.inner_text("ul.hists")
    assert "检查人：刘凯妮" in history and "不达标" in history
    page.locator("ul.hists").scroll_into_view_if_needed()
    phone.shot("20-point-colleague-visit")

    # A new inspection started offline; meanwhile the point is closed (as an import does:
    # a new change number, so phones learn it on their next pull).
    phone.context.set_offline(True)
    open_point(page, closing_name)
    start_inspection(page)
    page.fill("#item-book_volumes input", "1600")
    submit(page)
    try:
        _set_active(live_server, closing, False)
        phone.context.set_offline(False)
        page.wait_for_selector("li.rec[data-state=rejected]", timeout=30_000)
        refused = page.inner_text("li.rec[data-state=rejected]")
        assert "这个服务点已停用，不再接收新的检查。" in refused and "请联系主管" in refused
        phone.shot("21-outbox-point-closed")
        # the phone learnt of the closure in the same sync: off the list, no new inspection
        assert _home_row(page, closing_name).count() == 0
        page.goto(page.url.split("#")[0] + f"#/point/{closing}")
        page.wait_for_selector(f"h2:has-text('{closing_name}')")
        assert "此服务点已停用" in page.inner_text("main")
        assert page.locator("button:has-text('开始检查')").is_disabled()
    finally:
        _set_active(live_server, closing, True)  # the server is shared with other tests
