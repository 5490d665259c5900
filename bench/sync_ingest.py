"""Ingest rate: full-checklist inspections per second through /api/sync in batches of 500,
as a ratio to a raw bulk INSERT of the same rows into the same database in the same run
(fastest of three rounds), and how long each batch held the sync writer lock (one
transaction per request).

    .venv/bin/python bench/sync_ingest.py [--n 2000] [--db sqlite|postgres|both] [--repeat 1]

With --repeat k each figure is the median of k runs, each on a new database.
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import random
import statistics
import time
import uuid
from datetime import UTC, datetime

from sqlalchemy import insert
from sqlmodel import select
from starlette.testclient import TestClient
from sync_common import PASSWORD, full_record, load_demo, new_database, settings_for

from server.app import create_app
from server.db import session_scope
from server.models import ChecklistTemplate, Inspection, ServicePoint, TemplateVersion, User

RAW_ROUNDS = 3


class LockTimes(logging.Handler):
    """Collects the writer-lock hold time the server logs for every applied batch."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.ms: list[float] = []

    def emit(self, record: logging.LogRecord) -> None:
        if hasattr(record, "lock_ms"):
            self.ms.append(record.lock_ms)


def settle(engine) -> None:
    """Write out what earlier transactions left in the log (SQLite's WAL, PostgreSQL's
    checkpoint), so the raw insert is not charged for the sync phase's writes."""
    with engine.connect() as c:
        if engine.dialect.name == "sqlite":
            c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            c.exec_driver_sql("CHECKPOINT")
        c.commit()


def run(kind: str, n: int, batch: int = 500) -> dict:
    url, cleanup = new_database(kind)
    locks = LockTimes()
    logger = logging.getLogger("xunjian.sync")
    logger.addHandler(locks)
    logger.setLevel(logging.DEBUG)
    try:
        settings = settings_for(url, sync_page_size=batch)
        app = create_app(settings)
        engine = app.state.engine
        load_demo(engine, settings)
        with session_scope(engine) as s:
            codes = s.exec(select(ServicePoint.code).where(ServicePoint.kind == "village")).all()
        rng = random.Random(1)
        records = [full_record(rng, codes[i % len(codes)], "d-bench") for i in range(n)]
        with TestClient(app) as c:
            token = c.post(
                "/api/auth/login",
                json={
                    "username": "inspector",
                    "password": PASSWORD,
                    "device_id": "d-bench",
                    "device_name": "bench",
                },
            ).json()["token"]
            headers = {
                "Authorization": f"Bearer {token}",
                "Content-Encoding": "gzip",
                "Accept-Encoding": "gzip",
                "Content-Type": "application/json",
            }
            t0 = time.perf_counter()
            cursor = None
            for start in range(0, n, batch):
                ops = [
                    {
                        "op_id": str(uuid.uuid4()),
                        "type": "inspection.put",
                        "record_id": r["id"],
                        "base_rev": 0,
                        "hlc": f"{int(time.time() * 1000):016d}:0000:d-bench",
                        "data": r,
                    }
                    for r in records[start : start + batch]
                ]
                body = gzip.compress(
                    json.dumps(
                        {"protocol": 1, "device_id": "d-bench", "cursor": cursor, "ops": ops}
                    ).encode()
                )
                resp = c.post("/api/sync", content=body, headers=headers).json()
                assert all(a["status"] == "applied" for a in resp["acks"]), resp["acks"][:1]
                cursor = resp["cursor"]
            synced = time.perf_counter() - t0

        with session_scope(engine) as s:
            user = s.exec(select(User).where(User.username == "inspector")).one()
            points = dict(s.exec(select(ServicePoint.code, ServicePoint.id)).all())
            version = s.exec(
                select(TemplateVersion.id)
                .join(ChecklistTemplate, ChecklistTemplate.id == TemplateVersion.template_id)
                .where(ChecklistTemplate.key == "village_point", TemplateVersion.version == 1)
            ).one()
        now = datetime.now(UTC)

        def raw_rows() -> list[dict]:
            return [
                {
                    "id": str(uuid.uuid4()),
                    "point_id": points[r["point_code"]],
                    "template_version_id": version,
                    "inspector_id": user.id,
                    "device_id": "d-raw",
                    "status": "submitted",
                    "answers": r["answers"],
                    "photos": r["photos"],
                    "gps": r["gps"],
                    "notes": "",
                    "rev": 1,
                    "field_hlc": {},
                    "evidence_complete": False,
                    "seq": 0,
                    "created_at": now,
                    "updated_at": now,
                }
                for r in records
            ]

        # The raw insert takes a fraction of a second, so one slow moment on a shared machine
        # swings it a lot: the fastest of three rounds (each with new ids) is the figure.
        raw = float("inf")
        for _ in range(RAW_ROUNDS):
            rows = raw_rows()
            settle(engine)
            t0 = time.perf_counter()
            with session_scope(engine, write=True) as s:
                for start in range(0, n, batch):
                    s.execute(insert(Inspection), rows[start : start + batch])
            raw = min(raw, time.perf_counter() - t0)
        engine.dispose()
        return {
            "db": kind,
            "n": n,
            "sync_per_s": n / synced,
            "raw_per_s": n / raw,
            "ratio": (n / synced) / (n / raw),
            # (nan when the server does not report it, as before batches had one transaction)
            "lock_ms": statistics.median(locks.ms) if locks.ms else float("nan"),
            "lock_ms_max": max(locks.ms, default=float("nan")),
        }
    finally:
        logger.removeHandler(locks)
        cleanup()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--db", default="both")
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    for kind in kinds:
        runs = [run(kind, args.n) for _ in range(args.repeat)]
        r = {k: statistics.median(x[k] for x in runs) for k in runs[0] if k != "db"}
        print(
            f"{kind:9s} n={args.n}  /api/sync {r['sync_per_s']:8.1f} insp/s   "
            f"raw bulk insert {r['raw_per_s']:9.1f} insp/s   ratio {r['ratio']:.3f}   "
            f"writer lock per batch of 500: {r['lock_ms']:.0f} ms (max {r['lock_ms_max']:.0f})"
        )


if __name__ == "__main__":
    main()
