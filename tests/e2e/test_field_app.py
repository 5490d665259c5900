"""The field app on an emulated phone against the real server: the offline walk-through,
an expired token, 200 queued inspections across a browser restart, and the screens in both
languages. Screenshots land in test-artifacts/screens/.
"""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path

import pytest

from tests.e2e.conftest import PHOTO

pytestmark = pytest.mark.browser

PHOTO2 = PHOTO.with_name("photo2.jpg")
SENT = "li.rec[data-state=sent]"


def photo_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a WebP's VP8/VP8X header or a JPEG's SOF marker."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        kind = data[12:16]
        if kind == b"VP8 ":
            w, h = struct.unpack("<HH", data[26:30])
            return w & 0x3FFF, h & 0x3FFF
        if kind == b"VP8X":
            w = int.from_bytes(data[24:27], "little") + 1
            return w, int.from_bytes(data[27:30], "little") + 1
        raise ValueError(f"WebP chunk {kind!r}")
    i = 2
    while i < len(data):
        marker, length = data[i + 1], struct.unpack(">H", data[i + 2 : i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            h, w = struct.unpack(">HH", data[i + 5 : i + 9])
            return w, h
        i += 2 + length
    raise ValueError("no SOF marker")


def open_point(page, name: str):
    page.goto(page.url.split("#")[0] + "#/home")
    page.fill("#search", name)
    page.click(f"a.point:has-text('{name}')")
    page.wait_for_selector("h2:has-text('" + name + "')")


def start_inspection(page):
    page.click("button:has-text('开始检查')")
    page.wait_for_selector(".item")
    return page.url.rsplit("/", 1)[1]


def fill_good(page, photo: Path):
    """Answer the village checklist; two items get photos."""
    numbers = {
        "area_m2": "25",
        "seats": "10",
        "book_volumes": "1600",
        "book_titles": "520",
        "periodicals": "12",
        "av_items": "120",
        "new_titles_12m": "70",
        "loans_12m": "40",
        "activities_12m": "5",
    }
    for key, value in numbers.items():
        page.fill(f"#item-{key} input", value)
    for key in (
        "reading_room",
        "shelving",
        "hours_posted",
        "open_on_visit",
        "free_service",
        "catalog_register",
        "loan_register",
        "safety_clean",
    ):
        page.click(f"#item-{key} .opt:nth-child(1) label")
    for n in range(1, 4):
        page.click(f"#item-rules_posted .opt:nth-child({n}) label")
    page.click("#item-opening_hours button:has-text('+ 周一时段')")
    page.click("#item-opening_hours button:has-text('+ 周一时段')")
    page.click("#item-opening_hours button:has-text('周一时段复制')")
    page.fill("#item-manager input", "张秀兰")
    page.fill("#item-manager_phone input", "13891234567")
    for key in ("signboard", "reading_room"):
        page.set_input_files(f"#item-{key} input[type=file]", str(photo))
        page.wait_for_selector(f"#item-{key} img")


def submit(page):
    """Submit; when required items are empty the app lists them and asks: submit anyway."""
    page.click("button:has-text('提交检查')")
    page.wait_for_selector("h2:has-text('待同步'), section[role=alert]")
    if page.locator("section[role=alert] button:has-text('仍然提交')").count():
        page.click("section[role=alert] button:has-text('仍然提交')")
        page.wait_for_selector("h2:has-text('待同步')")


def local_record(page, rid: str) -> dict:
    return page.evaluate(
        """async (id) => (await import('/app/js/db.js')).get('inspections', id)""", rid
    )


def test_offline_walkthrough(make_phone, live_server):
    phone = make_phone()
    page = phone.goto()
    phone.shot("01-login")
    phone.login()
    phone.wait_sw_activated()
    phone.shot("02-home")
    # Installable in Chrome: the browser itself finds nothing missing.
    cdp = phone.context.new_cdp_session(page)
    assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == []
    manifest = json.loads(cdp.send("Page.getAppManifest")["data"])
    assert manifest["short_name"] == "巡检" and manifest["display"] == "standalone"
    cdp.detach()

    phone.context.set_offline(True)
    page.reload()
    page.wait_for_selector("a.point")
    page.wait_for_selector("#banner .info")  # the offline notice
    phone.shot("03-home-offline")
    offset = live_server.log_size()

    ids = []
    for name, photo in (("巨州村服务点", PHOTO), ("小留村服务点", PHOTO2)):
        open_point(page, name)
        if not ids:
            phone.shot("04-point")
        rid = start_inspection(page)
        ids.append(rid)
        fill_good(page, photo)
        page.fill("textarea", "管理员在岗，台账齐全。")
        if len(ids) == 1:
            phone.shot("05-form")
            # Reload in the middle of the form: the draft is all there.
            page.reload()
            page.wait_for_selector("#item-signboard img")
            assert page.input_value("#item-book_volumes input") == "1600"
            assert page.input_value("#item-manager_phone input") == "13891234567"
            assert page.is_checked("#item-free_service .opt:nth-child(1) input")
            assert page.input_value("textarea") == "管理员在岗，台账齐全。"
            assert "5 天" in page.inner_text("#item-opening_hours .total")
            page.locator("#item-opening_hours").scroll_into_view_if_needed()
            phone.shot("06-form-hours")
            page.locator(".card:has(#gps-h)").scroll_into_view_if_needed()
            phone.shot("07-form-gps")
        rec = local_record(page, rid)
        assert rec["status"] == "draft" and len(rec["photos"]) == 2
        submit(page)
    assert page.locator("li.rec[data-state=pending]").count() == 2
    phone.shot("08-outbox-offline")
    # Offline means offline: the app sent the server nothing meanwhile. Chromium's own update
    # check of the service worker (sw.js and the modules it imports, after a Background Sync
    # event) is made by the browser, outside the page's offline emulation: not the app's.
    heard = [
        ln
        for ln in live_server.requests_since(offset)
        if not re.search(r'"GET /app/(sw\.js|js/(db|outbox|sync|uploads)\.js) ', ln)
    ]
    assert heard == [], "\n".join(heard)

    phone.context.set_offline(False)  # the 'online' event starts the sync
    sent = f"() => document.querySelectorAll('{SENT}').length"
    page.wait_for_function(f"{sent} === 2", timeout=60_000)
    # Records show as sent when acked; their photos follow in the same run.
    page.wait_for_function("() => !window.xunjian.state.syncing", timeout=60_000)
    phone.shot("09-outbox-sent")

    photos = []
    for rid in ids:
        rows = live_server.query("SELECT status, photos FROM inspection WHERE id = ?", (rid,))
        assert len(rows) == 1 and rows[0][0] == "submitted"
        photos += json.loads(rows[0][1])
        ops = live_server.query("SELECT count(*) FROM sync_op WHERE record_id = ?", (rid,))
        assert ops == [(1,)]
    shas = {p["sha256"] for p in photos}
    assert len(photos) == 4 and len(shas) == 2  # same picture twice per inspection
    assert {p["mime"] for p in photos} == {"image/webp"}
    sizes = {}
    for sha in shas:
        assert live_server.query("SELECT complete FROM blob WHERE sha256 = ?", (sha,)) == [(1,)]
        data = (live_server.data / "blobs" / sha[:2] / sha).read_bytes()
        assert len(data) <= 250 * 1024
        # Chromium encodes WebP; the server stored the type it read from the bytes
        assert data[8:12] == b"WEBP"
        assert live_server.query("SELECT mime FROM blob WHERE sha256 = ?", (sha,)) == [
            ("image/webp",)
        ]
        sizes[sha] = photo_size(data)
    # EXIF orientation respected (portrait), long side 1600.
    assert sorted(sizes.values()) == [(1200, 1600), (1600, 1200)]
    # The app on this phone now shows them as sent, and the home list as inspected.
    open_point(page, "巨州村服务点")
    assert page.locator("li:has-text('已同步')").count() >= 1


def test_expired_token_keeps_outbox(make_phone, live_server):
    phone = make_phone()
    page = phone.goto()
    phone.login()
    phone.wait_sw_activated()
    phone.context.set_offline(True)
    open_point(page, "北仁村分馆")
    rid = start_inspection(page)
    page.fill("#item-book_volumes input", "3100")
    submit(page)
    # Background Sync is asked for (Chromium has it), on top of the app's own triggers.
    tags = page.evaluate("navigator.serviceWorker.ready.then(r => r.sync.getTags())")
    assert "outbox" in tags
    # Manual rescue: the outbox as a file.
    with page.expect_download() as dl:
        page.click("button:has-text('导出到文件')")
    dump = json.loads(Path(dl.value.path()).read_text())
    assert dump["kind"] == "xunjian-outbox" and [o["record_id"] for o in dump["ops"]] == [rid]
    device = page.evaluate("async () => (await import('/app/js/outbox.js')).deviceId()")
    live_server.execute(
        "UPDATE device SET token_expires_at = '2000-01-01 00:00:00.000000' WHERE id = ?", (device,)
    )
    phone.context.set_offline(False)
    page.wait_for_selector("#banner .warn", timeout=30_000)  # "登录已过期"
    phone.shot("10-token-expired")
    assert page.locator("li.rec[data-state=pending]").count() == 1
    assert live_server.query("SELECT count(*) FROM inspection WHERE id = ?", (rid,)) == [(0,)]

    page.click("#banner a:has-text('重新登录')")
    page.wait_for_selector("#password")
    assert "宋瞾静 有 1 条检查记录保存在本机" in page.inner_text("main .warn")
    phone.shot("11-login-again")
    page.fill("#password", "demo-pass-2020")
    page.click("form button[type=submit]")
    page.wait_for_selector("a.point")
    page.goto(page.url.split("#")[0] + "#/outbox")
    page.wait_for_selector(SENT, timeout=30_000)
    assert live_server.query("SELECT count(*) FROM inspection WHERE id = ?", (rid,)) == [(1,)]


MAKE_QUEUE = """async (n) => {
  const outbox = await import('/app/js/outbox.js');
  const db = await import('/app/js/db.js');
  const points = (await db.all('points')).filter((p) => p.kind === 'village');
  const tpl = (await db.all('templates')).find((t) => t.key === 'village_point');
  const ids = [];
  for (let i = 0; i < n; i++) {
    const p = points[i % points.length];
    const rec = await outbox.submit({
      id: crypto.randomUUID(), point_code: p.code, template_key: tpl.key,
      template_version: tpl.version, cycle_id: null, status: 'draft',
      answers: {book_volumes: 1000 + i, free_service: true}, photos: [], gps: null,
      notes: `queued ${i}`, started_at: new Date().toISOString(), submitted_at: null, rev: 0,
      _owner: await outbox.currentUser()});
    ids.push(rec.id);
  }
  return ids;
}"""


def test_200_queued_survive_browser_restart(make_phone, live_server):
    phone = make_phone()
    page = phone.goto()
    phone.login("inspector2")
    phone.wait_sw_activated()
    phone.context.set_offline(True)
    ids = page.evaluate(MAKE_QUEUE, 200)
    assert len(set(ids)) == 200
    phone.close()  # the browser goes away (a killed app)

    page = phone.launch()
    phone.context.set_offline(True)
    phone.goto("/app/#/outbox")
    page.wait_for_selector("li.rec")
    assert page.locator("li.rec[data-state=pending]").count() == 200
    assert page.inner_text("#nav .badge") == "200"  # the badge and the outbox agree
    phone.shot("12-outbox-200")
    phone.context.set_offline(False)
    page.click("button:has-text('立即同步')")
    sent = f"() => document.querySelectorAll('{SENT}').length"
    page.wait_for_function(f"{sent} === 200", timeout=120_000)
    marks = ",".join("?" * len(ids))
    assert live_server.query(
        f"SELECT count(*) FROM inspection WHERE id IN ({marks})", tuple(ids)
    ) == [(200,)]


def test_english_and_settings(make_phone):
    phone = make_phone()
    page = phone.goto()
    phone.login()
    page.goto(page.url.split("#")[0] + "#/settings")
    page.wait_for_selector("#lang")
    assert "检查记录和照片占用" in page.inner_text("main")
    assert "d-" not in page.inner_text("main")  # no device id, no jargon
    phone.shot("13-settings")
    page.select_option("#lang", "en")
    page.wait_for_selector("h2:has-text('Settings')")
    page.goto(page.url.split("#")[0] + "#/home")
    page.wait_for_selector("h2:has-text('My service points')")
    assert page.get_attribute("html", "lang") == "en"
    phone.shot("14-home-en")
    # The static shell speaks English too (skip link, navigation landmark, title).
    assert page.text_content("a.skip") == "Skip to content"
    assert page.get_attribute("#nav", "aria-label") == "Main navigation"
    assert page.title() == "Xunjian"
    # The form's own words: no Chinese, no raw catalog keys (names of places are data).
    page.fill("#search", "阡道")
    page.click("a.point")
    page.click("button:has-text('Start inspection')")
    page.wait_for_selector(".item")
    page.fill("#item-area_m2 input", "5")
    chrome = page.evaluate(
        """() => [...document.querySelectorAll(
            'main button, main label, main h3, .status, .sticky, .total, #banner, #nav')]
          .map((e) => e.innerText + ' ' + (e.getAttribute('aria-label') || '')).join(' ')"""
    )
    assert not re.search(r"[\u3400-\u9fff]", chrome), chrome
    assert not re.search(r"\b(rule|form|hours|status|photo)\.[a-z_]+", chrome), chrome
    assert "below 20" in page.inner_text("#item-area_m2 .status")
