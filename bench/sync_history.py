"""The reads of every sync and every photo upload on a server with years of history: does
their cost follow what changed, or everything the inspector and the county ever had?

A demo database whose inspector gets --n inspections and the county --n follow-ups (copies
of the demo's, all complete, made in SQL), then one new inspection synced through the API
with a photo not yet uploaded, as a phone does at the end of a day. Timed (the median of 9,
one session, service functions called directly):

- the pull of a phone that is up to date (nothing after its cursor);
- the missing photos the sync answer lists;
- the photo upload's check that the sender's own records name the photo;
- the upload's search for the records the photo may complete;
- a sync batch's read of its points' latest inspections (here every point of the county,
  a batch's worth), under the writer lock;
- the pull's latest inspection of each point row (the same points);
- the summaries' latest inspection of each point in each cycle (the same points), which
  every writer that changes what a point counts for reads under the writer lock;
- the summaries' count of the same points' follow-ups not yet closed (read there too).

PostgreSQL's statistics are gathered first (autovacuum does so on a running server);
SQLite's are not, as the server never runs ANALYZE: its plans are the ones a county gets.

    .venv/bin/python bench/sync_history.py [--n 20000] [--db sqlite|postgres|both]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time

from sqlmodel import select
from starlette.testclient import TestClient
from sync_common import PASSWORD, full_record, load_demo, new_database, settings_for

from server.app import create_app
from server.db import session_scope
from server.models import Inspection, ServicePoint, User
from server.services import summaries
from server.services.blob_upload import waiting_for
from server.services.photo_access import named_by_user
from server.services.scope import scope_of
from server.services.sync_cache import BatchCache
from server.services.sync_prepare import Prepared
from server.services.sync_pull import Serializer, committed_seq, pull
from server.services.sync_round import missing_blobs
from tests.sync.factories import op


def grow(
    conn, table: str, n: int, key: str | None, fixed: dict[str, str], shuffle: bool = False
) -> int:
    """Copy `table`'s rows into itself until it holds n (new `key`s; `fixed` columns set).
    `shuffle`: in random order, so a point's rows lie scattered over the table's pages, as
    rows written day by day across a county's points do."""
    cols = [c["name"] for c in conn.dialect.get_columns(conn, table)]
    cols = [c for c in cols if not (key is None and c == "id")]
    new_id = (
        "lower(hex(randomblob(16)))" if conn.dialect.name == "sqlite" else "md5(random()::text)"
    )
    sel = ", ".join(new_id if c == key else fixed.get(c, f'"{c}"') for c in cols)
    names = ", ".join(f'"{c}"' for c in cols)
    have = conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar()
    while 0 < have < n:
        conn.exec_driver_sql(
            f"INSERT INTO {table} ({names}) SELECT {sel} FROM {table}"
            f"{' ORDER BY random()' if shuffle else ''} LIMIT {min(have, n - have)}"
        )
        have = conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar()
    return have


def median_ms(f, k: int = 9) -> float:
    times = []
    for _ in range(k):
        t0 = time.perf_counter()
        f()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def run(kind: str, n: int) -> None:
    url, cleanup = new_database(kind)
    try:
        settings = settings_for(url)
        app = create_app(settings)
        engine = app.state.engine
        load_demo(engine, settings)
        with engine.begin() as c:
            uid = c.exec_driver_sql("SELECT id FROM \"user\" WHERE username = 'inspector'").scalar()
            true = "1" if kind == "sqlite" else "true"
            # the copies are earlier years' work: a day up to ten years back, as a county's
            # history is (copies at the same moment would all tie for each point's latest)
            back = (
                "strftime('%Y-%m-%d %H:%M:%S', submitted_at, "
                "'-' || (abs(random()) % 3650 + 1) || ' days') || '.000000'"
                if kind == "sqlite"
                else "submitted_at - (floor(random() * 3650) + 1) * interval '1 day'"
            )
            fixed = {"inspector_id": str(uid), "evidence_complete": true, "submitted_at": back}
            inspections = grow(c, "inspection", n, "id", fixed)
            # closed, as earlier years' follow-ups are (a point has at most one open per item)
            follow_ups = grow(c, "follow_up", n, None, {"status": "'closed'"}, shuffle=True)
            code = c.exec_driver_sql(
                "SELECT code FROM service_point WHERE kind = 'village' ORDER BY id LIMIT 1"
            ).scalar()
            if kind != "sqlite":
                c.exec_driver_sql("ANALYZE")  # autovacuum's work on a running server
        rec = full_record(random.Random(7), code, "d-hist")
        with TestClient(app) as client:
            login = {"username": "inspector", "password": PASSWORD, "device_id": "d-hist"}
            token = client.post("/api/auth/login", json=login).json()["token"]
            put = op(rec, hlc=f"{int(time.time() * 1000):016d}:0000:d-hist")
            body = {"protocol": 1, "device_id": "d-hist", "cursor": None, "ops": [put]}
            reply = client.post(
                "/api/sync", json=body, headers={"Authorization": f"Bearer {token}"}
            ).json()
            assert reply["acks"][0]["status"] == "applied", reply["acks"]
        sha = rec["photos"][0]["sha256"]
        with session_scope(engine) as s:
            user = s.exec(select(User).where(User.id == uid)).one()
            scope = scope_of(s, user)
            top = committed_seq(s)
            points = set(s.exec(select(ServicePoint.id)).all())
            figures = {
                "pull, nothing new": median_ms(lambda: pull(s, scope, top, 500)),
                "missing photos": median_ms(lambda: missing_blobs(s, uid)),
                "upload: own record names it": median_ms(lambda: named_by_user(s, uid, sha)),
                "upload: records it may complete": median_ms(
                    lambda: s.exec(select(Inspection.id).where(waiting_for(sha))).all()
                ),
                "batch: points' latest": median_ms(
                    lambda: BatchCache(s, scope, Prepared()).load_points(points)
                ),
                "pull: points' latest": median_ms(
                    lambda: Serializer(s).last_inspections(list(points))
                ),
                "summaries: each cycle's latest": median_ms(
                    lambda: summaries._latest(s.connection(), points)
                ),
                "summaries: open follow-ups": median_ms(
                    lambda: summaries._follow_ups(s.connection(), points)
                ),
            }
        engine.dispose()
        print(
            f"{kind:9s} {inspections} inspections, {follow_ups} follow-ups   "
            + "   ".join(f"{k} {v:.2f} ms" for k, v in figures.items())
            + f"   load {os.getloadavg()[0]:.1f}"
        )
    finally:
        cleanup()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--db", default="both")
    args = ap.parse_args()
    for kind in ["sqlite", "postgres"] if args.db == "both" else [args.db]:
        run(kind, args.n)


if __name__ == "__main__":
    main()
