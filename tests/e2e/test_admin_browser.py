"""Every /admin page in a desktop Chromium (1280x800), logged in as the demo's admin, in
Chinese; screenshots in test-artifacts/screens/admin-*.png, to be looked at."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import ARGS, CHROMIUM, PASSWORD, SCREENS, _serve
from tests.server.test_i18n import assert_one_language

pytestmark = pytest.mark.browser

DESKTOP = {
    "viewport": {"width": 1280, "height": 800},
    "locale": "zh-CN",
    "timezone_id": "Asia/Shanghai",
}
PAGES = [
    ("home", "/"),
    ("users", "/admin/users"),
    ("user-new", "/admin/users/new"),
    ("areas", "/admin/areas"),
    ("points", "/admin/points"),
    ("point", "/admin/points/610424001201"),
    ("checklists", "/admin/checklists"),
    ("checklist-params", "/admin/checklists/village_point/610424"),
    ("cycles", "/admin/cycles"),
    ("plans", "/admin/plans"),
    ("audit", "/admin/audit"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = _serve(tmp_path_factory, demo=True)
    yield s
    s.stop()


def test_every_admin_page_at_desktop_size(pw, server):
    browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
    try:
        page = browser.new_context(**DESKTOP).new_page()
        page.goto(server.url + "/login?next=/admin/users")
        page.fill("#username", "admin")
        page.fill("#password", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url("**/admin/users")
        SCREENS.mkdir(parents=True, exist_ok=True)
        for name, path in PAGES:
            response = page.goto(server.url + path)
            assert response is not None and response.status == 200, path
            html = page.content()
            assert_one_language(html, "zh-CN")
            page.screenshot(path=str(SCREENS / f"admin-{name}.png"), full_page=True)
        # the user page of an inspector, with their devices
        page.goto(server.url + "/admin/users")
        page.click("text=宋瞾静")
        page.screenshot(path=str(SCREENS / "admin-user.png"), full_page=True)
        assert "宋瞾静" in page.content()
    finally:
        browser.close()
