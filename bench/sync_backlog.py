"""What a phone downloads after pushing a backlog: N full-checklist inspections sent as the
field app sends them (batches of 500 ops, each followed by its pull drained page by page,
pwa/js/sync.js `pushAndPull`), the answers counted as they cross the wire (gzipped).

A large batch's changes (its inspections, the follow-ups they open, their points) fill
more than one page, so the phone pulls the rest with requests of no ops. Until the eighth
session those pages sent the phone's own inspections back to it in full; now a record the
device sent and the server holds as sent is left out (models.Inspection.echo_device).

The phone first catches up on the demo county (not counted). In-process (Starlette's
TestClient): these are bytes and rows, not times.

    .venv/bin/python bench/sync_backlog.py [--n 30 150 500] [--db sqlite|postgres]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import time

from sqlmodel import select
from starlette.testclient import TestClient
from sync_common import PASSWORD, full_record, load_demo, new_database, settings_for

from server.app import create_app
from server.db import session_scope
from server.models import Cycle, ServicePoint
from tests.sync.factories import op

BATCH = 500


def run(kind: str, n: int) -> dict:
    url, cleanup = new_database(kind)
    try:
        settings = settings_for(url, sync_page_size=BATCH)
        app = create_app(settings)
        load_demo(app.state.engine, settings)
        with session_scope(app.state.engine) as s:
            codes = s.exec(select(ServicePoint.code).where(ServicePoint.kind == "village")).all()
            cycle = s.exec(select(Cycle.id).where(Cycle.current.is_(True))).one()  # type: ignore[attr-defined]
        rng = random.Random(3)
        records = [full_record(rng, codes[i % len(codes)], "d-week", cycle) for i in range(n)]
        mine = {r["id"] for r in records}
        with TestClient(app) as client:
            login = {"username": "inspector", "password": PASSWORD, "device_id": "d-week"}
            token = client.post("/api/auth/login", json=login).json()["token"]
            headers = {
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
                "Content-Encoding": "gzip",
                "Accept-Encoding": "gzip",
            }
            out = {"requests": 0, "bytes_down": 0, "rows": 0, "echoed": 0}

            def exchange(ops: list[dict], cursor: str | None, count: bool) -> dict:
                body = {"protocol": 1, "device_id": "d-week", "cursor": cursor, "ops": ops}
                raw = gzip.compress(json.dumps(body, ensure_ascii=False).encode())
                r = client.post("/api/sync", content=raw, headers=headers)
                assert r.status_code == 200, r.text[:300]
                reply = r.json()
                if count:
                    out["requests"] += 1
                    out["bytes_down"] += int(r.headers["content-length"])  # as sent: gzipped
                    out["rows"] += sum(len(v) for v in reply["changes"].values())
                    out["echoed"] += sum(i["id"] in mine for i in reply["changes"]["inspections"])
                return reply

            def drain(reply: dict, count: bool) -> str:
                while reply["more"]:
                    reply = exchange([], reply["cursor"], count)
                return reply["cursor"]

            cursor = drain(exchange([], None, False), False)  # catch up first
            hlc = f"{int(time.time() * 1000):016d}:0000:d-week"
            for start in range(0, n, BATCH):
                ops = [op(r, hlc=hlc) for r in records[start : start + BATCH]]
                reply = exchange(ops, cursor, True)
                assert all(a["status"] == "applied" for a in reply["acks"])
                cursor = drain(reply, True)
        return out
    finally:
        cleanup()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, nargs="+", default=[30, 150, 500])
    ap.add_argument("--db", default="sqlite")
    args = ap.parse_args()
    for n in args.n:
        r = run(args.db, n)
        print(
            f"{args.db:9s} {n:4d} inspections pushed   {r['requests']} requests   "
            f"{r['bytes_down'] / 1024:8.1f} KiB down (gzipped)   {r['rows']} change rows, "
            f"{r['echoed']} of them the phone's own inspections sent back"
        )


if __name__ == "__main__":
    main()
