"""Bytes and SSIM per photo, today's JPEG against WebP, through the field app's own shrink()
in Debian's Chromium, on generated 12 MP test photos (bench/photo_scenes.js: the same seeds
give the same photos, so nothing large is committed).

    .venv/bin/python bench/photo_codec.py [--seeds 1] [--sweep] [--save]

--save writes each photo as shrink() makes it (JPEG) to bench/out/photos/ to look at.
Target (issue 12): WebP <= 0.75 x the JPEG bytes at an SSIM no lower than the JPEG's.
"""

from __future__ import annotations

import argparse
import base64
import functools
import os
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.e2e.conftest import ARGS, CHROMIUM  # noqa: E402

SCENES = [
    "signboard",
    "shelving",
    "reading_room",
    "rules_posted",
    "hours_posted",
    "register",
    "activity",
    "exterior",
]


class _Quiet(SimpleHTTPRequestHandler):
    extensions_map: ClassVar = {**SimpleHTTPRequestHandler.extensions_map, ".js": "text/javascript"}

    def log_message(self, *args):
        pass


def serve_repo() -> ThreadingHTTPServer:
    """The repository as static files, so the page imports pwa/js/photos.js as the app does."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=ROOT))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=1, help="photos per scene")
    ap.add_argument("--sweep", action="store_true", help="also encode each at fixed qualities")
    ap.add_argument("--save", action="store_true")
    args = ap.parse_args()
    httpd = serve_repo()
    base = f"http://127.0.0.1:{httpd.server_port}/bench/photo_codec.html"
    rows = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page()
        page.goto(base)
        page.wait_for_function("() => window.benchReady === true")
        ladders = page.evaluate("window.bench.ladders")
        for seed in range(1, args.seeds + 1):
            for name in SCENES:
                row = page.evaluate(
                    "([n, s, sw]) => window.bench.measure(n, s, sw)", [name, seed, args.sweep]
                )
                rows.append(row)
                if args.save:
                    out = ROOT / "bench/out/photos"
                    out.mkdir(parents=True, exist_ok=True)
                    b64 = page.evaluate(
                        """async ([n, s]) => {
                            const b = await window.bench.preview(n, s);
                            const u8 = new Uint8Array(await b.arrayBuffer());
                            let bin = '';
                            for (let i = 0; i < u8.length; i += 8192)
                              bin += String.fromCharCode(...u8.subarray(i, i + 8192));
                            return btoa(bin);
                        }""",
                        [name, seed],
                    )
                    (out / f"{name}-{seed}.jpg").write_bytes(base64.b64decode(b64))
                j, w = row["jpeg"], row["webp"]
                print(
                    f"{name:>13}-{seed} camera {row['camera_bytes'] / 1e6:4.1f} MB "
                    f"{row['width']}x{row['height']}  jpeg {j['bytes'] / 1024:6.1f} KB "
                    f"ssim {j['ssim']:.4f}  webp {w['bytes'] / 1024:6.1f} KB ssim {w['ssim']:.4f}"
                    f"  ratio {w['bytes'] / j['bytes']:.2f}",
                    flush=True,
                )
        browser.close()
    httpd.shutdown()
    n = len(rows)
    jb = sum(r["jpeg"]["bytes"] for r in rows) / n
    wb = sum(r["webp"]["bytes"] for r in rows) / n
    js = sum(r["jpeg"]["ssim"] for r in rows) / n
    ws = sum(r["webp"]["ssim"] for r in rows) / n
    worse = [r["name"] for r in rows if r["webp"]["ssim"] < r["jpeg"]["ssim"]]
    print(f"\nshrink() quality ladders: {ladders}")
    print(f"photos {n}; mean bytes jpeg {jb / 1024:.1f} KB, webp {wb / 1024:.1f} KB")
    print(f"bytes ratio webp / jpeg {wb / jb:.2f}; mean SSIM jpeg {js:.4f}, webp {ws:.4f}")
    print(f"photos where webp's SSIM is below jpeg's: {len(worse)} {worse}")
    if args.sweep:
        print("\nsweep per photo: type quality -> KB / SSIM")
        for r in rows:
            cells = [
                f"{s['type'][6:]} {s['q']:.2f} {s['bytes'] / 1024:.0f}/{s['ssim']:.4f}"
                for s in r["sweep"]
            ]
            print(f"  {r['name']}: " + "; ".join(cells))
        print("\nsweep (mean over photos): type quality -> KB, SSIM")
        for i, s in enumerate(rows[0]["sweep"]):
            kb = sum(r["sweep"][i]["bytes"] for r in rows) / n / 1024
            ss = sum(r["sweep"][i]["ssim"] for r in rows) / n
            print(f"  {s['type']:>10} {s['q']:.2f} -> {kb:6.1f} KB  {ss:.4f}")
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
