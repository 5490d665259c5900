"""Rasterise icon.svg / maskable.svg to the PNGs the manifest lists, with Debian's Chromium.

Run once after changing an SVG: `.venv/bin/python pwa/icons/render.py`. The PNGs are committed.
"""

from pathlib import Path

from playwright.sync_api import sync_playwright

HERE = Path(__file__).parent
JOBS = [("icon.svg", "icon", (192, 512)), ("maskable.svg", "maskable", (192, 512))]

with sync_playwright() as p:
    browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
    for svg, stem, sizes in JOBS:
        src = (HERE / svg).read_text()
        for size in sizes:
            page = browser.new_page(viewport={"width": size, "height": size})
            page.set_content(
                "<style>html,body{margin:0;background:transparent}svg{display:block}</style>"
                + src.replace("<svg ", f'<svg width="{size}" height="{size}" ', 1)
            )
            page.screenshot(path=str(HERE / f"{stem}-{size}.png"), omit_background=True)
            page.close()
    browser.close()
