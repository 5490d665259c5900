"""The overview and the compliance map in Chromium, on the demo with made-up township
boundaries: the map shows every demo point in its rating's colour and every township in its
band, clicks open their pages, a name is shown as text, and no request leaves 127.0.0.1.
Screenshots at desktop (1366x900) and tablet (1024x768) size in test-artifacts/screens/
(desk-*.png), to be looked at."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
from sqlmodel import select

from server.db import make_engine, session_scope
from server.models import User
from server.services.admin_rights import rights_of
from server.services.boundaries import upload_boundaries
from server.services.compliance_map import RATING_COLORS
from server.services.scope import scope_of
from tests.demo_cycles import CYCLE_SQL
from tests.e2e.conftest import ARGS, CHROMIUM, PASSWORD, SCREENS, _serve
from tests.server.demo_boundaries import demo_boundaries
from tests.server.test_i18n import assert_one_language

pytestmark = pytest.mark.browser

SIZES = {"desktop": (1366, 900), "tablet": (1024, 768)}
ODD_NAME = "<b>粗</b>村服务点"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = _serve(tmp_path_factory, demo=True)
    engine = make_engine(f"sqlite:///{s.db}")
    with session_scope(engine, write=True) as db:
        admin = db.exec(select(User).where(User.username == "admin")).one()
        doc = json.dumps(demo_boundaries(engine)).encode()
        assert upload_boundaries(db, rights_of(db, scope_of(db, admin)), doc).stored
    engine.dispose()
    s.execute("UPDATE service_point SET name = ? WHERE code = '610424001201'", (ODD_NAME,))
    yield s
    s.stop()


def _expected(server) -> dict[str, int]:
    """Markers per rating in the current cycle (the overview's default: the latest with
    data)."""
    cycle = server.query(CYCLE_SQL["current"])[0][0]
    rows = server.query(
        "SELECT rating, count(*) FROM point_summary WHERE cycle_id = ? AND counted GROUP BY rating",
        (cycle,),
    )
    out = dict(rows)
    active = server.query("SELECT count(*) FROM service_point WHERE active AND lat IS NOT NULL")
    out["none"] = active[0][0] - sum(out.values())
    return out


@pytest.mark.parametrize("size", list(SIZES))
def test_overview_and_map_in_a_browser(pw, server, size):
    width, height = SIZES[size]
    browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
    requests: list[str] = []
    errors: list[str] = []
    try:
        context = browser.new_context(
            viewport={"width": width, "height": height},
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
        )
        page = context.new_page()
        page.on("request", lambda r: requests.append(r.url))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(server.url + "/login?next=/")
        page.fill("#username", "supervisor")
        page.fill("#password", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url(server.url + "/")
        SCREENS.mkdir(parents=True, exist_ok=True)
        assert "城关街道" in page.content()
        assert_one_language(page.content(), "zh-CN")
        page.screenshot(path=str(SCREENS / f"desk-overview-{size}.png"), full_page=True)

        page.click("text=达标地图")
        page.wait_for_selector("#map[data-ready]")
        expected = _expected(server)
        for rating, n in expected.items():
            markers = page.locator(f"path.xj-point.xj-rating-{rating}")
            assert markers.count() == n, rating
            if n:
                assert markers.first.get_attribute("fill") == RATING_COLORS[rating]
        assert page.locator("path.xj-township").count() == 16
        assert page.locator(".leaflet-tile").count() == 0  # no tile server: plain background
        page.screenshot(path=str(SCREENS / f"desk-map-{size}.png"), full_page=True)

        # a name is shown as text in its tooltip, never as HTML
        odd = page.locator("path.xj-at-610424001201")
        odd.dispatch_event("mouseover")
        tip = page.locator(".leaflet-tooltip")
        assert ODD_NAME in tip.inner_text() and tip.locator("b").count() == 0

        page.locator("path.xj-point.xj-rating-fail").first.dispatch_event("click")
        page.wait_for_url("**/point/*")
        page.go_back()
        page.wait_for_selector("#map[data-ready]")
        page.locator("path.xj-township").first.dispatch_event("click")
        page.wait_for_url("**/area/610424001?cycle=*")
    finally:
        browser.close()
    assert errors == []
    hosts = {urlsplit(u).netloc for u in requests if not u.startswith(("data:", "about:"))}
    assert hosts == {f"127.0.0.1:{server.port}"}, hosts
