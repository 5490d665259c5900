"""axe-core (the engine inside Lighthouse's accessibility category) on every field-app
screen after login, which Lighthouse itself cannot reach: home, point, form, outbox,
settings, in Chinese and English. Prints the violations; none is the goal.

Run: .venv/bin/python bench/pwa_axe.py   (needs `npm ci --prefix bench` for axe-core)
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright
from pwa_common import demo_server, launch, login, wait_sw

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
RUN = """async () => {
  const r = await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'best-practice']});
  return r.violations.map(v => `${v.id} (${v.impact}): ${v.nodes.length} node(s) - ${v.help}`);
}"""


def audit(page, name: str) -> int:
    # The app's CSP refuses inline scripts (script-src 'self'), so a <script> tag with axe
    # is blocked; a function evaluated through the DevTools protocol is not the page's.
    page.evaluate("() => {\n" + AXE.read_text() + "\n}")
    found = page.evaluate(RUN)
    print(f"{name:<14} {len(found)} violation(s)")
    for v in found:
        print("   ", v)
    return len(found)


def main() -> None:
    with demo_server() as server, sync_playwright() as pw, tempfile.TemporaryDirectory() as d:
        ctx, page = launch(pw, Path(d))
        page.goto(server.url + "/app/")
        page.wait_for_selector("#username")
        total = audit(page, "login")
        login(page)
        wait_sw(page)
        total += audit(page, "home")
        page.click("a.point >> nth=0")
        page.wait_for_selector("button.primary")
        total += audit(page, "point")
        page.click("button.primary")
        page.wait_for_selector(".item")
        page.fill("#item-book_volumes input", "900")
        total += audit(page, "form")
        page.goto(server.url + "/app/#/outbox")
        page.wait_for_selector("h2")
        total += audit(page, "outbox")
        page.goto(server.url + "/app/#/settings")
        page.wait_for_selector("#lang")
        total += audit(page, "settings")
        page.select_option("#lang", "en")
        page.goto(server.url + "/app/#/home")
        page.wait_for_selector("h2:has-text('My service points')")
        total += audit(page, "home (en)")
        ctx.close()
    print(f"total: {total} violation(s)")


if __name__ == "__main__":
    main()
