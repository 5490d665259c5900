"""Bytes on the wire for a phone's first visit to /app/, until the service worker has
precached the shell (before logging in), and the gzipped size of the shell itself.

Run: .venv/bin/python bench/pwa_first_load.py
"""

from __future__ import annotations

import gzip
import json
import re
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright
from pwa_common import demo_server, launch, wait_sw

from server.routes.pwa import build_assets, pwa_dir

TARGET = 60 * 1024


def shell_figures() -> tuple[int, int, int]:
    assets = build_assets(pwa_dir())
    sw = assets["/app/sw.js"]
    raw = gz = 0
    listing = json.loads(re.search(rb"self.__PRECACHE__ = (\[.*?\]);", sw.body).group(1))
    for entry in listing:
        url = entry["url"] + ("index.html" if entry["url"].endswith("/") else "")
        a = assets[url]
        raw += len(a.body)
        gz += len(a.gz) if a.gz is not None else len(a.body)
    raw += len(sw.body)
    gz += len(gzip.compress(sw.body, 9))
    return len(listing) + 1, raw, gz


def main() -> None:
    files, raw, gz = shell_figures()
    print(
        f"app shell: {files} files, {raw / 1024:.1f} KB raw, {gz / 1024:.1f} KB gzipped "
        f"(target <= {TARGET // 1024} KB) -> {'OK' if gz <= TARGET else 'OVER'}"
    )
    with demo_server() as server, sync_playwright() as pw, tempfile.TemporaryDirectory() as d:
        ctx, page = launch(pw, Path(d))
        wire = {"page": 0, "worker": 0}
        count = {"page": 0, "worker": 0}

        def on_finished(request):
            sizes = request.sizes()
            who = "worker" if request.service_worker else "page"
            wire[who] += sizes["responseBodySize"] + sizes["responseHeadersSize"]
            count[who] += 1

        ctx.on("requestfinished", on_finished)
        page.goto(server.url + "/app/")
        wait_sw(page)
        page.wait_for_timeout(500)
        total = wire["page"] + wire["worker"]
        print(
            f"first load on the wire: {total / 1024:.1f} KB in "
            f"{count['page'] + count['worker']} responses "
            f"(page {wire['page'] / 1024:.1f} KB / {count['page']}, "
            f"service worker install {wire['worker'] / 1024:.1f} KB / {count['worker']})"
        )
        ctx.close()


if __name__ == "__main__":
    main()
