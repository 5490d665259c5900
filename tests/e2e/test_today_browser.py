"""今日计划 on a phone (Pixel 7, GPS granted): a supervisor plans four points for today on
the web, the inspector's phone pulls them and shows them as a route from its position, in
the shortest order (checked against every order), each leg measured, and still offline.
Screenshots in test-artifacts/screens/today-*.png and /tmp/shots/field/."""

from __future__ import annotations

import itertools
import math
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.e2e.conftest import ARGS, CHROMIUM, GEO, PASSWORD, SCREENS, _phones, _serve

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots/field")


def _metres(a, b) -> float:
    rad = math.radians
    x = (
        math.sin(rad(b[0] - a[0]) / 2) ** 2
        + math.cos(rad(a[0])) * math.cos(rad(b[0])) * math.sin(rad(b[1] - a[1]) / 2) ** 2
    )
    return 2 * 6371000 * math.asin(math.sqrt(x))


def _length(start, stops) -> float:
    total, at = 0.0, start
    for s in stops:
        total, at = total + _metres(at, s), s
    return total


def _plan_on_the_web(pw, server, codes: list[str], inspector_id: int) -> None:
    browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
    try:
        page = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai").new_page()
        page.goto(server.url + "/login?next=/admin/plans")
        page.fill("#username", "supervisor")
        page.fill("#password", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url("**/admin/plans")
        page.select_option("#inspector", str(inspector_id))
        beijing = datetime.now(timezone(timedelta(hours=8))).date()
        page.fill("#start_date", beijing.isoformat())
        page.fill("#due_date", (beijing + timedelta(days=2)).isoformat())
        page.fill("#points", " ".join(codes))
        page.click("form[action='/admin/plans'] button[type=submit]")
        page.wait_for_selector("p.notice.ok")
    finally:
        browser.close()


def _new_inspector(server, username: str) -> tuple[int, int]:
    """A colleague of the demo's inspector with no plans yet (same area and password)."""
    cols = [r[1] for r in server.query("PRAGMA table_info(user)") if r[1] != "id"]
    copied = ", ".join("?" if c in ("username", "display_name") else f'"{c}"' for c in cols)
    server.execute(
        f"INSERT INTO user ({', '.join(chr(34) + c + chr(34) for c in cols)}) "
        f"SELECT {copied} FROM user WHERE username = 'inspector'",
        tuple(
            username if c == "username" else "路线测试员"
            for c in cols
            if c in ("username", "display_name")
        ),
    )
    return server.query("SELECT id, area_id FROM user WHERE username = ?", (username,))[0]


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """A demo server of this module's own: the shared one's points may already have been
    inspected today by other tests, and a point inspected today leaves the route."""
    server = _serve(tmp_path_factory, demo=True)
    yield server
    server.stop()


@pytest.fixture
def make_phone(pw, phone, live_server, tmp_path):
    make, made = _phones(pw, phone, live_server, tmp_path)
    yield make
    for p in made:
        p.close()


def test_todays_plan_is_a_short_route_from_the_phone(pw, make_phone, live_server):
    inspector_id, area_id = _new_inspector(live_server, "route_tester")
    rows = live_server.query(
        "WITH RECURSIVE sub(id) AS (SELECT ? UNION SELECT a.id FROM area a "
        "JOIN sub ON a.parent_id = sub.id) "
        "SELECT code, lat, lon FROM service_point WHERE active AND lat IS NOT NULL "
        "AND kind = 'village' AND township_id IN (SELECT id FROM sub) ORDER BY code DESC LIMIT 5",
        (area_id,),
    )
    assert len(rows) == 5
    where = {code: (lat, lon) for code, lat, lon in rows}
    _plan_on_the_web(pw, live_server, list(where), inspector_id)

    phone = make_phone("today")
    page = phone.goto()
    phone.wait_sw_activated()
    phone.login("route_tester")
    page.click("nav a[href='#/today']")
    page.wait_for_selector("ol.route li")
    assert "从当前位置出发" in page.inner_text("p.route-from")
    got = page.locator("ol.route li").evaluate_all("els => els.map(e => e.dataset.code)")
    assert sorted(got) == sorted(where), "every planned point, once"
    start = (GEO["latitude"], GEO["longitude"])
    best = min(_length(start, [where[c] for c in p]) for p in itertools.permutations(where))
    assert _length(start, [where[c] for c in got]) == pytest.approx(best, abs=1.0)
    legs = page.locator("ol.route .leg").all_inner_texts()
    assert (
        len(legs) == 5
        and legs[0].startswith("距起点")
        and all(leg.endswith(("米", "公里")) for leg in legs)
    )
    first = _metres(start, where[got[0]])
    shown = legs[0].split()[1]
    assert abs(float(shown) * (1000 if "公里" in legs[0] else 1) - first) <= max(60, first * 0.06)
    SCREENS.mkdir(parents=True, exist_ok=True)
    path = SCREENS / "today-route.png"
    page.screenshot(path=str(path))
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SHOTS / path.name)
    # offline, the day's route is still there (computed on the phone)
    phone.context.set_offline(True)
    page.reload()
    page.wait_for_selector("ol.route li")
    assert page.locator("ol.route li").count() == 5
    phone.context.set_offline(False)
