"""The township, point and inspection pages in Chromium on the demo, at desktop (1366x900)
and tablet (1024x768) size, logged in as the demo's supervisor. Screenshots go to
/tmp/shots/deskpages/ (or XUNJIAN_SHOTS), to be looked at. The inspection's small map is
drawn by Leaflet served from this server: no request leaves it."""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import ARGS, CHROMIUM, PASSWORD, _serve
from tests.server.test_i18n import assert_one_language

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("XUNJIAN_SHOTS", "/tmp/shots/deskpages"))
SIZES = {"desktop": (1366, 900), "tablet": (1024, 768)}
TOWNSHIP = "610424113"  # 周城镇: 董城, 红旗 were inspected in both of the demo's cycles
POINT = "610424113201"
THUMBS = "[...document.querySelectorAll('.thumbs img')]"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = _serve(tmp_path_factory, demo=True)
    yield s
    s.stop()


@pytest.mark.parametrize("size", sorted(SIZES))
def test_area_point_and_inspection_pages(pw, server, size):
    width, height = SIZES[size]
    browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
    hosts: set[str] = set()
    try:
        context = browser.new_context(
            viewport={"width": width, "height": height},
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
        )
        page = context.new_page()
        page.on("request", lambda r: hosts.add(urlsplit(r.url).netloc))
        page.goto(f"{server.url}/login?next=/area/{TOWNSHIP}")
        page.fill("#username", "supervisor")
        page.fill("#password", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url(f"**/area/{TOWNSHIP}")
        SHOTS.mkdir(parents=True, exist_ok=True)

        assert_one_language(page.content(), "zh-CN")
        assert page.locator("table.list tbody tr").count() >= 3
        assert page.locator(".rating.good, .rating.basic, .rating.fail").count() >= 1
        page.screenshot(path=str(SHOTS / f"area-township-{size}.png"), full_page=True)

        page.goto(f"{server.url}/area/610424")
        assert page.locator("table.list tbody tr").count() == 16
        page.screenshot(path=str(SHOTS / f"area-county-{size}.png"), full_page=True)

        page.goto(f"{server.url}/point/{POINT}")
        assert page.locator("table.list tbody tr").count() >= 1
        page.screenshot(path=str(SHOTS / f"point-{size}.png"), full_page=True)

        page.click("table.list tbody tr >> nth=0 >> text=查看")
        page.wait_for_url(re.compile(r".*/inspection/[0-9a-f-]+$"))
        page.wait_for_selector(".gps-map.leaflet-container")
        assert page.locator(".gps-map path.leaflet-interactive").count() >= 2
        # every thumbnail loads (made by the server from the stored photo); lazy ones are
        # asked for now, for the full-page screenshot
        page.evaluate(f"{THUMBS}.forEach(i => i.loading = 'eager')")
        page.wait_for_function(f"() => {THUMBS}.every(i => i.complete && i.naturalWidth > 0)")
        assert page.locator(".thumbs img").count() >= 1
        page.screenshot(path=str(SHOTS / f"inspection-{size}.png"), full_page=True)

        page.goto(page.url + "?lang=en")
        assert_one_language(page.content(), "en")
        page.screenshot(path=str(SHOTS / f"inspection-en-{size}.png"), full_page=True)
    finally:
        browser.close()
    assert hosts == {urlsplit(server.url).netloc}
