"""A deploy that changes two shell files: the phone shows "update available", fetches
exactly those two files (plus the worker itself), and keeps its drafts and outbox."""

from __future__ import annotations

import re
import shutil

import pytest

from tests.e2e.conftest import ROOT, _serve
from tests.e2e.test_field_app import local_record, open_point, start_inspection

pytestmark = pytest.mark.browser


@pytest.fixture
def copy_server(tmp_path_factory):
    shell = tmp_path_factory.mktemp("shell") / "pwa"
    shutil.copytree(ROOT / "pwa", shell, ignore=shutil.ignore_patterns("__pycache__"))
    server = _serve(tmp_path_factory, demo=True, pwa_dir=shell)
    yield server, shell
    server.stop()


def test_update_available_keeps_local_data(pw, phone, copy_server, tmp_path):
    from tests.e2e.conftest import Phone

    server, shell = copy_server
    ph = Phone(pw, tmp_path / "profile", phone, server)
    try:
        page = ph.launch()
        ph.goto()
        ph.login()
        ph.wait_sw_activated()
        open_point(page, "巨州村服务点")
        rid = start_inspection(page)
        page.fill("#item-book_volumes input", "1777")
        page.wait_for_timeout(200)

        # Deploy: one stylesheet rule and one catalog string change.
        server.stop()
        css = shell / "css" / "app.css"
        css.write_text(css.read_text() + "\n.deploy-marker{color:inherit}\n")
        zh = shell / "i18n" / "zh-CN.json"
        zh.write_text(zh.read_text().replace('"有新版本可用。"', '"有新版本可用，请更新。"'))
        server.start()
        offset = server.log_size()

        page.reload()
        page.wait_for_selector("#banner button:has-text('更新')", timeout=30_000)
        ph.shot("15-update-available")
        fetched = {
            m.group(1)
            for ln in server.requests_since(offset)
            if (m := re.search(r'"GET (/app/\S*) HTTP', ln))
        }
        # The worker script and its imports are always re-checked; of the rest, only the
        # two changed files travel.
        assert {"/app/css/app.css", "/app/i18n/zh-CN.json"} <= fetched
        unchanged = {"/app/js/app.js", "/app/js/views/form.js", "/app/", "/app/js/rules.js"}
        assert not fetched & unchanged

        page.click("#banner button:has-text('更新')")
        page.wait_for_function(
            "() => getComputedStyle(document.documentElement) && "
            "[...document.styleSheets].some(s => [...s.cssRules].some("
            "r => r.selectorText === '.deploy-marker'))",
            timeout=30_000,
        )
        rec = local_record(page, rid)
        assert rec["status"] == "draft" and rec["answers"]["book_volumes"] == 1777
        page.goto(page.url.split("#")[0] + f"#/form/{rid}")
        page.wait_for_selector("#item-book_volumes input")
        assert page.input_value("#item-book_volumes input") == "1777"
    finally:
        ph.close()
