"""Lighthouse 12 mobile scores for /app/ (the first screen a phone sees), with Debian's
Chromium. Lighthouse is pinned in bench/package.json; install it once with
`npm ci --prefix bench`.

Run: .venv/bin/python bench/pwa_lighthouse.py   (report JSON in bench/out/)
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from pwa_common import CHROMIUM, demo_server

BENCH = Path(__file__).resolve().parent
OUT = BENCH / "out"
FLAGS = (
    "--headless=new --no-sandbox --disable-gpu --disable-background-networking "
    "--disable-component-update --disable-sync"
)
TARGETS = {"performance": 95, "accessibility": 95, "best-practices": 100}


def main() -> None:
    lh = BENCH / "node_modules" / ".bin" / "lighthouse"
    if not lh.exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=BENCH, check=True)
    OUT.mkdir(exist_ok=True)
    report = OUT / "lighthouse-app.json"
    with demo_server() as server:
        subprocess.run(
            [
                str(lh),
                server.url + "/app/",
                "--quiet",
                "--output=json",
                f"--output-path={report}",
                "--form-factor=mobile",
                "--only-categories=performance,accessibility,best-practices",
                f"--chrome-flags={FLAGS}",
            ],
            check=True,
            env={**os.environ, "CHROME_PATH": CHROMIUM},
        )
    data = json.loads(report.read_text())
    for key, cat in data["categories"].items():
        score = round(cat["score"] * 100)
        ok = "OK" if score >= TARGETS.get(key, 0) else "BELOW TARGET"
        print(f"{cat['title']:<16} {score:>3}  (target >= {TARGETS.get(key)}) {ok}")
    for key in (
        "first-contentful-paint",
        "largest-contentful-paint",
        "total-blocking-time",
        "cumulative-layout-shift",
        "total-byte-weight",
    ):
        print(f"  {data['audits'][key]['title']}: {data['audits'][key]['displayValue']}")
    failed = [
        a["id"]
        for a in data["audits"].values()
        if a.get("score") is not None and a["score"] < 1 and a.get("scoreDisplayMode") == "binary"
    ]
    if failed:
        print("  binary audits not passed:", ", ".join(sorted(failed)))


if __name__ == "__main__":
    main()
