"""Time until the checklist form is interactive on a repeat start with no network at all,
with the CPU slowed 4x (a mid-range phone), measured in the page from navigation start to
the app's 'form-interactive' mark (the form rendered from IndexedDB, inputs live).

Two starts are timed: "new tab" (browser running, service worker warm) and "cold" (the
browser restarted on the same profile). Median of RUNS each.

Run: .venv/bin/python bench/pwa_tti.py
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright
from pwa_common import demo_server, launch, login, wait_sw

RUNS = 5
SLOWDOWN = 4


def timed_open(ctx, url: str) -> float:
    page = ctx.new_page()
    cdp = ctx.new_cdp_session(page)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": SLOWDOWN})
    page.goto(url)
    page.wait_for_selector("#item-book_volumes input")
    ms = page.evaluate(
        "() => { const m = performance.getEntriesByName('form-interactive');"
        " return m.length ? m[m.length - 1].startTime : null; }"
    )
    page.close()
    return ms


def main() -> None:
    with demo_server() as server, sync_playwright() as pw, tempfile.TemporaryDirectory() as d:
        profile = Path(d)
        ctx, page = launch(pw, profile)
        page.goto(server.url + "/app/")
        login(page)
        wait_sw(page)
        page.click("a.point >> nth=0")
        page.click("button.primary")
        page.wait_for_selector("#item-book_volumes input")
        page.fill("#item-book_volumes input", "1500")
        form_url = page.url
        warm, cold = [], []
        ctx.set_offline(True)
        for _ in range(RUNS):
            warm.append(timed_open(ctx, form_url))
        ctx.close()
        for _ in range(RUNS):
            ctx, _page = launch(pw, profile)
            ctx.set_offline(True)
            cold.append(timed_open(ctx, form_url))
            ctx.close()
    print(f"form interactive, offline, CPU {SLOWDOWN}x slower, median of {RUNS}:")
    print(f"  new tab:         {statistics.median(warm):.0f} ms  (runs {[round(x) for x in warm]})")
    print(f"  browser restart: {statistics.median(cold):.0f} ms  (runs {[round(x) for x in cold]})")


if __name__ == "__main__":
    main()
