"""The supervisor's review pages in a desktop Chromium (1280x800), in Chinese: log in, read a
conflict made by two phones side by side, resolve it, open the quarantine, revoke a phone;
then switch to English in the header and see every page again in English only.
Screenshots: test-artifacts/screens/review-*.png (zh) and review-en-*.png."""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime

import pytest

from tests.e2e.conftest import ARGS, CHROMIUM, PASSWORD, ROOT, SCREENS, _serve
from tests.server.test_i18n import assert_one_language
from tests.sync.factories import op

pytestmark = pytest.mark.browser

DESKTOP = {
    "viewport": {"width": 1280, "height": 800},
    "locale": "zh-CN",
    "timezone_id": "Asia/Shanghai",
}
PHOTO = (ROOT / "server/demo/photos/shelves.jpg").read_bytes()
PHOTO_SHA = hashlib.sha256(PHOTO).hexdigest()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A demo server of this module's own: the test revokes a phone and resolves data."""
    s = _serve(tmp_path_factory, demo=True)
    yield s
    s.stop()


def _call(server, method, path, body=None, token=None, raw=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = raw if raw is not None else json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(server.url + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


# What the two phones of the test say about themselves at login (devices page names).
AGENTS = {
    "redmi-12": {
        "User-Agent": "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like "
        "Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
        "Sec-CH-UA-Model": '"Redmi 12"',
    },
    "honor-x50": {
        "User-Agent": "Mozilla/5.0 (Linux; Android 13; ALI-AN00 Build/HONORALI-AN00; wv) "
        "AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/107.0.5304.141 Mobile "
        "Safari/537.36 MicroMessenger/8.0.40.2420(0x28002851) WeChat/arm64 Weixin",
    },
}


def _phone(server, device):
    return server.login("inspector", device, PASSWORD, AGENTS[device])


def _push(server, token, device, rec, base_rev, hlc):
    body = {"protocol": 1, "device_id": device, "cursor": None, "ops": [op(rec, base_rev, hlc)]}
    status, reply = _call(server, "POST", "/api/sync", body, token)
    assert status == 200, reply
    return reply["acks"][0]


def _make_conflict_and_quarantine(server):
    code, version = server.query(
        "SELECT p.code, v.version FROM service_point p, template_version v "
        "JOIN checklist_template t ON t.id = v.template_id "
        "WHERE p.kind = 'village' AND t.key = 'village_point' ORDER BY p.code, v.version DESC"
    )[0]
    a, b = _phone(server, "redmi-12"), _phone(server, "honor-x50")
    week = {d: [] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    rec = {
        "id": str(uuid.uuid4()),
        "point_code": code,
        "template_key": "village_point",
        "template_version": version,
        "cycle_id": None,
        "status": "draft",
        "answers": {"book_volumes": 1000, "seats": 8},
        "photos": [],
        "gps": None,
        "notes": "",
        "started_at": datetime(2026, 11, 26, 1, tzinfo=UTC).isoformat(),
        "submitted_at": None,
        "device_id": "redmi-12",
    }
    assert _push(server, a, "redmi-12", rec, 0, "0001764144000000:0000:redmi-12")["rev"] == 1
    answers_a = {
        "book_volumes": 1600,
        "seats": 12,
        "shelving": True,
        "opening_hours": {**week, "tue": [["09:00", "12:00"]], "thu": [["09:00", "12:00"]]},
    }
    answers_b = {
        "book_volumes": 1200,
        "seats": 10,
        "shelving": False,
        "opening_hours": {
            **week,
            "tue": [["09:00", "12:00"], ["14:30", "17:30"]],
            "sat": [["09:00", "11:30"]],
        },
    }
    notes_b = "书架第三层受潮，已拍照。"
    a_rec = {**rec, "answers": answers_a, "notes": "门口标牌已更换。"}
    ack = _push(server, a, "redmi-12", a_rec, 1, "0001764144000005:0000:redmi-12")
    assert ack["status"] == "applied"
    photo = {
        "sha256": PHOTO_SHA,
        "item": "shelving",
        "size": len(PHOTO),
        "mime": "image/jpeg",
        "taken_at": "2026-11-26T09:10:00+08:00",
    }
    b_rec = {**rec, "answers": answers_b, "notes": notes_b, "photos": [photo]}
    ack = _push(server, b, "honor-x50", b_rec, 1, "0001764144000009:0000:honor-x50")
    assert ack["status"] == "conflict"
    _call(server, "PUT", f"/api/blobs/{PHOTO_SHA}", token=b, raw=PHOTO)
    bad = {**rec, "id": str(uuid.uuid4()), "answers": {"book_volumes": -5}}
    assert _push(server, a, "redmi-12", bad, 0, "0001764144000010:0000:redmi-12")["code"]
    return ack["conflict_id"], b


def _shot(page, name, full=True):
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"review-{name}.png"), full_page=full)


def test_supervisor_reviews_in_the_browser(pw, server):
    conflict_id, phone_b = _make_conflict_and_quarantine(server)
    browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
    try:
        page = browser.new_context(**DESKTOP).new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))

        page.goto(server.url + "/")
        _shot(page, "00-home", full=False)
        page.click("header >> text=审核")
        page.wait_for_selector("#username")
        page.fill("#username", "supervisor")
        page.fill("#password", "wrong")
        page.click("main form button[type=submit]")
        page.wait_for_selector("#login-error")
        _shot(page, "01-login-error")
        page.fill("#password", PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_selector("text=审核概览")
        assert page.locator(".big").all_inner_texts() == ["1", "1", "2"]
        _shot(page, "02-overview")

        page.click(".tiles >> text=待处理的同步冲突")
        page.wait_for_selector(f"text=#{conflict_id} 查看")
        _shot(page, "03-conflicts")
        page.click(f"text=#{conflict_id} 查看")
        page.wait_for_selector("table.side")
        assert page.locator("table.side tbody tr").count() == 5  # notes + four answers
        thumb = page.locator(f"img[src='/review/photos/{PHOTO_SHA}']")
        thumb.wait_for()
        assert thumb.evaluate("img => img.complete && img.naturalWidth > 0")
        _shot(page, "04-conflict")

        rows = page.locator("table.side tbody tr")
        rows.filter(has_text="图书册数").get_by_label("采用服务器版本").check()
        rows.filter(has_text="阅览座位").get_by_label("采用设备版本").check()
        page.click("text=保存处理结果")
        page.wait_for_selector("text=已保存处理结果")
        _shot(page, "05-resolved")

        page.click("nav >> text=隔离区")
        page.wait_for_selector("details summary")
        page.locator("details summary").first.click()
        _shot(page, "06-quarantine")

        page.click("nav >> text=设备")
        assert page.locator("tr", has_text="honor-x50").locator("strong").inner_text() == (
            "ALI-AN00 · 微信 8"
        )
        assert page.locator("tr", has_text="redmi-12").locator("strong").inner_text() == (
            "Redmi 12 · Chrome 120"
        )
        page.locator("tr", has_text="honor-x50").locator("text=注销…").click()
        page.wait_for_selector("text=注销设备？")
        _shot(page, "07-revoke-confirm")
        page.click("text=确认注销")
        page.wait_for_selector("text=设备已注销")
        _shot(page, "08-devices")
        page.goto(server.url + "/review/nowhere")
        _shot(page, "09-not-found", full=False)

        page.goto(server.url + "/review")
        page.click("header button[lang=en]")  # the language switch, kept on the account
        page.wait_for_selector("text=Review overview")
        english = [
            ("02-overview", "/review"),
            ("03-conflicts", "/review/conflicts?status=all"),
            ("04-conflict", f"/review/conflicts/{conflict_id}"),
            ("06-quarantine", "/review/quarantine"),
            ("07-revoke-confirm", "/review/devices/redmi-12/revoke"),
            ("08-devices", "/review/devices"),
            ("09-not-found", "/review/nowhere"),
            ("00-home", "/"),
        ]
        for name, path in english:
            page.goto(server.url + path)
            assert page.locator("html").get_attribute("lang") == "en"
            assert_one_language(page.content(), "en")
            _shot(page, f"en-{name}", full=name not in ("00-home", "09-not-found"))
        page.click("header button >> text=Log out")
        page.wait_for_selector("text=You have logged out")
        page.fill("#username", "supervisor")
        page.fill("#password", "wrong")
        page.click("main form button[type=submit]")
        page.wait_for_selector("#login-error")
        _shot(page, "en-01-login-error")
        page.click("header button[lang=zh-CN]")
        page.wait_for_selector("text=主管登录")
        assert errors == []
    finally:
        browser.close()

    rev, answers = server.query(
        "SELECT rev, answers FROM inspection i JOIN sync_conflict c ON c.inspection_id = i.id "
        "WHERE c.id = ?",
        (conflict_id,),
    )[0]
    answers = json.loads(answers)
    assert rev == 4 and answers["book_volumes"] == 1600 and answers["seats"] == 10
    status, body = _call(
        server,
        "POST",
        "/api/sync",
        {"protocol": 1, "device_id": "honor-x50", "cursor": None, "ops": []},
        phone_b,
    )
    assert status == 401 and body["error"]["code"] == "token_revoked"
