"""Ingest rate: full-checklist inspections per second through /api/sync in batches of 500,
against two baselines in the same database in the same run. Every figure, sync's too, is the
fastest of ROUNDS rounds, each begun with the write-ahead log written out (a checkpoint), so
all three sides are timed the same way; the first sync round alone is printed as well:

- raw: a bulk INSERT of the inspection rows alone, into one table, in one transaction;
- fair: the rows the sync path itself wrote, copied with new ids, into every table it
  writes (inspection, inspection_revision, sync_op acks, follow_up, the point_summary of
  each point a batch touches replaced, area_summary, area_item_summary and
  area_follow_up_summary added to, the points' and the change counter's seq), one
  transaction per 500 inspections. Sync does more than that (decoding, validation, rules,
  merge), so the ratio to it says what that work costs.

Each fair round runs right after a sync round and copies that round's rows, so the two
sides alternate on the machine and on a database of the same size; the median of the
round-by-round ratios is printed beside the ratio of the fastest rounds. (Until the seventh
session every fair round ran after all the sync rounds, on a database grown by them and by
the raw inserts, and the fair baseline swung 2,440-5,250 insp/s between runs.)

and how long each batch held the sync writer lock (one transaction per request), per op.

Sync's side is a live server, `xunjian serve` on 127.0.0.1 in its own process
(bench/ingest_server.py), sent one phone's batches one after another over HTTP; only the
round trips are timed. Until 2026-12-01's sixth session the bench ran the app in the bench's
own process through Starlette's TestClient, so the client's half of each request (building it,
reading and un-gzipping the reply) ran on the server's interpreter and was charged to sync
(docs/benchmarks.md, "Each point's latest inspection by its index, and ingest over real
HTTP").

    .venv/bin/python bench/sync_ingest.py [--n 2000] [--db sqlite|postgres|both] [--repeat 1]
        [--profile N]

With --repeat k each figure is the median of k runs, each on a new database. --profile N
prints the N functions that took most of the time inside the server's `apply_batch`
(cProfile): what the writer lock is held for (it also slows that part down, so the rates of
such a run are not figures).
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import pstats
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import bindparam, delete, insert, tuple_, update
from sqlalchemy import select as sa_select
from sqlmodel import select
from sync_common import PASSWORD, full_record, load_demo, new_database, settings_for

from server.db import make_engine, session_scope
from server.domain.followups import CLOSED
from server.models import (
    ChangeCounter,
    ChecklistTemplate,
    Cycle,
    FollowUp,
    Inspection,
    InspectionRevision,
    PointSummary,
    ServicePoint,
    SyncOp,
    TemplateVersion,
    User,
)
from server.services.summaries import AFS, AIS, AS, _upsert_adding
from tests.live import LiveServer, server_env
from tests.sync.factories import op

ROUNDS = 5  # of each: sync, raw insert, fair baseline; the fastest is the figure
WARM = 20  # inspections in the untimed first batch
JSON_HEADERS = {"Content-Type": "application/json"}


def settle(engine) -> None:
    """Write out what earlier transactions left in the log (SQLite's WAL, PostgreSQL's
    checkpoint), so the raw insert is not charged for the sync phase's writes."""
    with engine.connect() as c:
        if engine.dialect.name == "sqlite":
            c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            c.exec_driver_sql("CHECKPOINT")
        c.commit()


class Server(LiveServer):
    """`xunjian serve` through bench/ingest_server.py: the same server in its own process,
    which also writes each batch's writer-lock time (and a profile) where the bench reads it."""

    def __init__(self, settings, folder: Path, profile: str | None) -> None:
        env = server_env(settings.database_url, settings.data_dir, settings.secret_key)
        env["XUNJIAN_SYNC_PAGE_SIZE"] = str(settings.sync_page_size)
        super().__init__(env, folder / "server.log")
        self.locks = folder / "locks.txt"
        self.profile = profile

    def command(self) -> list[str]:
        extra = ["--profile", self.profile] if self.profile else []
        server = str(Path(__file__).with_name("ingest_server.py"))
        locks = ["--lock-log", str(self.locks)]
        return [sys.executable, server, "--port", str(self.port), *locks, *extra]

    def lock_times(self) -> list[tuple[int, float]]:
        """(ops, ms) of every batch the server applied."""
        lines = self.locks.read_text().split("\n") if self.locks.exists() else []
        return [(int(a), float(b)) for a, b in (line.split() for line in lines if line)]


def post(conn: http.client.HTTPConnection, path: str, body: bytes, headers: dict) -> bytes:
    conn.request("POST", path, body, headers)
    reply = conn.getresponse()
    data = reply.read()
    if reply.status != 200:
        raise SystemExit(f"{path} answered {reply.status}: {data[:300]!r}")
    return data


def sync_rounds(
    settings, engine, records: list[dict], n: int, batch: int, profile: str | None, after_round
):
    """Sync's side: the records pushed through a live server as one phone does, batch after
    batch; seconds per round, and (ops, lock ms) per batch. `after_round(records)` runs after
    each round, with the server still up: the fair baseline's round on that round's rows."""
    server = Server(settings, Path(tempfile.mkdtemp(prefix="xj-ingest-")), profile)
    server.start(timeout=120)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=600)
        login = {
            "username": "inspector",
            "password": PASSWORD,
            "device_id": "d-bench",
            "device_name": "bench",
        }
        token = json.loads(post(conn, "/api/auth/login", json.dumps(login).encode(), JSON_HEADERS))[
            "token"
        ]
        headers = {
            **JSON_HEADERS,
            "Authorization": f"Bearer {token}",
            "Content-Encoding": "gzip",
            "Accept-Encoding": "gzip",
        }
        # Only the round trips are timed: building and gzipping a batch, and reading the
        # reply, are the phone's work, not the server's ingest; the server is in its own
        # process, so none of the phone's work runs on its interpreter either.
        # A server that has been up has its statements compiled and its checklists read:
        # one small batch first, untimed, so the figure is not the first request's.
        # Sync is timed like the baselines: the fastest of ROUNDS rounds of n new
        # inspections, each begun with the log written out. One pass alone against the
        # fastest baseline round would charge sync every slow moment of a shared machine.
        rounds = [0.0] * ROUNDS
        cursor = None
        chunks = [(-1, records[:WARM])]
        for r in range(ROUNDS):
            start = WARM + r * n
            ends = range(start, start + n, batch)
            chunks += [(r, records[i : min(i + batch, start + n)]) for i in ends]
        for k, (round_no, chunk) in enumerate(chunks):
            if round_no >= 0 and chunks[k - 1][0] != round_no:
                if chunks[k - 1][0] >= 0:
                    after_round(records[WARM + (round_no - 1) * n : WARM + round_no * n])
                settle(engine)
            hlc = f"{int(time.time() * 1000):016d}:0000:d-bench"
            ops = [op(r, hlc=hlc) for r in chunk]
            # as the field app sends it: JSON.stringify keeps Chinese as UTF-8, not \u escapes
            batch_json = {"protocol": 1, "device_id": "d-bench", "cursor": cursor, "ops": ops}
            body = gzip.compress(json.dumps(batch_json, ensure_ascii=False).encode())
            t0 = time.perf_counter()
            data = post(conn, "/api/sync", body, headers)
            if round_no >= 0:
                rounds[round_no] += time.perf_counter() - t0
            resp = json.loads(gzip.decompress(data))
            assert all(a["status"] == "applied" for a in resp["acks"]), resp["acks"][:1]
            cursor = resp["cursor"]
        after_round(records[WARM + (ROUNDS - 1) * n : WARM + ROUNDS * n])
        conn.close()
    finally:
        server.stop()
    return rounds, server.lock_times()


def run(kind: str, n: int, batch: int = 500, profile: str | None = None) -> dict:
    url, cleanup = new_database(kind)
    try:
        settings = settings_for(url, sync_page_size=batch)
        engine = make_engine(url)
        load_demo(engine, settings)
        with session_scope(engine) as s:
            codes = s.exec(select(ServicePoint.code).where(ServicePoint.kind == "village")).all()
            # as the field app does, each inspection names the cycle it was made in: sync then
            # keeps the points' summaries (point_summary) as it does in real use
            cycle = s.exec(select(Cycle.id).where(Cycle.current.is_(True))).one()  # type: ignore[attr-defined]
        rng = random.Random(1)
        total = WARM + ROUNDS * n
        records = [full_record(rng, codes[i % len(codes)], "d-bench", cycle) for i in range(total)]
        fair: list[float] = []  # seconds of each fair round, right after its sync round

        def fair_after(done: list[dict]) -> None:
            snap = snapshot(engine, {r["id"] for r in done})
            settle(engine)
            fair.append(fair_round(engine, snap, batch))
            fair_rows.update({k: len(v) for k, v in snap.items()})

        fair_rows: dict[str, int] = {}
        rounds, lock_ms = sync_rounds(settings, engine, records, n, batch, profile, fair_after)
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
                for r in records[WARM : WARM + n]
            ]

        # The raw insert takes a fraction of a second, so one slow moment on a shared machine
        # swings it a lot: the fastest of three rounds (each with new ids) is the figure.
        raw = float("inf")
        for _ in range(ROUNDS):
            rows = raw_rows()
            settle(engine)
            t0 = time.perf_counter()
            with session_scope(engine, write=True) as s:
                for start in range(0, n, batch):
                    s.execute(insert(Inspection), rows[start : start + batch])
            raw = min(raw, time.perf_counter() - t0)
        engine.dispose()
        lock_per_op = [ms / ops for ops, ms in lock_ms]
        synced = min(rounds)
        return {
            "db": kind,
            "n": n,
            "sync_per_s": n / synced,
            "sync_first_per_s": n / rounds[0],  # one pass, as this script measured before
            "raw_per_s": n / raw,
            "ratio": (n / synced) / (n / raw),
            # each fair round copies the n inspections of the sync round just before it
            "fair_per_s": n / min(fair),
            "fair_ratio": min(fair) / synced,
            # round by round: each sync round against the fair round right after it
            "paired_ratio": statistics.median(f / t for f, t in zip(fair, rounds, strict=True)),
            "fair_tx_ms_per_op": min(fair) * 1000 / n,
            "fair_rows": fair_rows,
            "lock_ms_per_op": statistics.median(lock_per_op) if lock_per_op else float("nan"),
            # (nan when the server does not report it, as before batches had one transaction)
            "lock_ms": statistics.median(ms for _, ms in lock_ms) if lock_ms else float("nan"),
            "lock_ms_max": max((ms for _, ms in lock_ms), default=float("nan")),
        }
    finally:
        cleanup()


def snapshot(engine, ids: set[str]) -> dict[str, list[dict]]:
    """Every row sync wrote for the inspections `ids`, per table, in the order it wrote the
    inspections, and the summary rows it keeps for their points and areas."""
    ins, rev, ops = Inspection.__table__, InspectionRevision.__table__, SyncOp.__table__
    fu, ps = FollowUp.__table__, PointSummary.__table__
    with engine.connect() as c:
        inspections = [
            dict(r._mapping)
            for r in c.execute(
                sa_select(ins).where(ins.c.device_id == "d-bench").order_by(ins.c.seq)
            )
            if r.id in ids
        ]
        points = {r["point_id"] for r in inspections}

        def rows(table, where) -> list[dict]:
            return [dict(r._mapping) for r in c.execute(sa_select(table).where(where))]

        return {
            "inspection": inspections,
            "revision": [
                r for r in rows(rev, rev.c.device_id == "d-bench") if r["inspection_id"] in ids
            ],
            "op": [r for r in rows(ops, ops.c.device_id == "d-bench") if r["record_id"] in ids],
            "follow_up": [r for r in rows(fu, fu.c.id > 0) if r["opened_by"] in ids],
            "point_summary": [r for r in rows(ps, ps.c.point_id > 0) if r["point_id"] in points],
            "area_summary": rows(AS, AS.c.area_id > 0),
            "area_item": rows(AIS, AIS.c.area_id > 0),
            "area_follow_up": rows(AFS, AFS.c.area_id > 0),
        }


def fair_round(engine, snap: dict[str, list[dict]], batch: int) -> float:
    """The sync round's rows again under new ids, `batch` inspections per transaction;
    seconds taken. The copies are drafts and their follow-ups closed (the same bytes to
    write), so the next sync round finds each point's latest inspection and open follow-ups
    as it would without them."""
    new_id = {r["id"]: str(uuid.uuid4()) for r in snap["inspection"]}
    new_op = {r["op_id"]: str(uuid.uuid4()) for r in snap["op"]}
    by_insp: dict[str, dict[str, list[dict]]] = {}
    for kind, key in (("revision", "inspection_id"), ("follow_up", "opened_by")):
        for r in snap[kind]:
            by_insp.setdefault(r[key], {}).setdefault(kind, []).append(r)
    ops_by_record = {}
    for r in snap["op"]:
        ops_by_record.setdefault(r["record_id"], []).append(r)
    zero_areas = [
        {**r, **{k: 0 for k in r if k not in ("cycle_id", "area_id")}} for r in snap["area_summary"]
    ]
    zero_items = [{**r, "passed": 0, "counted": 0} for r in snap["area_item"]]
    zero_due = [{**r, "count": 0} for r in snap["area_follow_up"]]
    # sync replaces the summary of every (point, cycle) a batch touches: here each is
    # replaced by a copy naming the chunk's last inspection there
    summary_of = {(r["point_id"], r["cycle_id"]): r for r in snap["point_summary"]}
    ps, sp = PointSummary.__table__, ServicePoint.__table__
    t0 = time.perf_counter()
    for start in range(0, len(snap["inspection"]), batch):
        chunk = snap["inspection"][start : start + batch]
        with session_scope(engine, write=True) as s:
            conn = s.connection()
            conn.execute(
                update(ChangeCounter.__table__).values(
                    value=ChangeCounter.__table__.c.value + len(chunk)
                )
            )
            conn.execute(
                insert(Inspection.__table__),
                [{**r, "id": new_id[r["id"]], "status": "draft"} for r in chunk],
            )
            revs, ops, fus = [], [], []
            sums: dict[tuple, dict] = {}
            for r in chunk:
                mine = by_insp.get(r["id"], {})
                revs += [
                    {
                        **x,
                        "inspection_id": new_id[r["id"]],
                        "op_id": new_op.get(x["op_id"], x["op_id"]),
                    }
                    for x in mine.get("revision", [])
                ]
                ops += [
                    {**x, "op_id": new_op[x["op_id"]], "record_id": new_id[r["id"]]}
                    for x in ops_by_record.get(r["id"], [])
                ]
                fus += [
                    {**x, "id": None, "opened_by": new_id[r["id"]], "status": CLOSED}
                    for x in mine.get("follow_up", [])
                ]
                key = (r["point_id"], r["cycle_id"])
                if key in summary_of:
                    sums[key] = {**summary_of[key], "inspection_id": new_id[r["id"]]}
            if revs:
                conn.execute(insert(InspectionRevision.__table__), revs)
            if ops:
                conn.execute(insert(SyncOp.__table__), ops)
            if fus:
                conn.execute(
                    insert(FollowUp.__table__),
                    [{k: v for k, v in x.items() if k != "id"} for x in fus],
                )
            if sums:
                conn.execute(delete(ps).where(tuple_(ps.c.point_id, ps.c.cycle_id).in_(list(sums))))
                conn.execute(insert(ps), list(sums.values()))
            # each point's change number, as sync stamps every point it touches
            touched = sorted({r["point_id"] for r in chunk})
            conn.execute(
                update(sp).where(sp.c.id == bindparam("b_id")).values(seq=bindparam("b_seq")),
                [{"b_id": p, "b_seq": start + k} for k, p in enumerate(touched)],
            )
            _upsert_adding(conn, AS, ["cycle_id", "area_id"], zero_areas)
            _upsert_adding(
                conn,
                AIS,
                ["cycle_id", "area_id", "template_key", "item_key"],
                zero_items,
            )
            _upsert_adding(conn, AFS, ["cycle_id", "area_id", "due_date", "status"], zero_due)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--db", default="both")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--profile", type=int, default=0)
    args = ap.parse_args()
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    for kind in kinds:
        profile = f"{tempfile.mkdtemp(prefix='xj-ingest-')}/apply.prof" if args.profile else None
        runs = [run(kind, args.n, profile=profile) for _ in range(args.repeat)]
        r = {
            k: statistics.median(x[k] for x in runs)
            for k in runs[0]
            if k not in ("db", "fair_rows")
        }
        print(
            f"{kind:9s} n={args.n}  /api/sync {r['sync_per_s']:8.1f} insp/s   "
            f"raw bulk insert {r['raw_per_s']:9.1f} insp/s   ratio {r['ratio']:.3f}   "
            f"writer lock per batch of 500: {r['lock_ms']:.0f} ms (max {r['lock_ms_max']:.0f})"
        )
        print(
            f"{'':9s} fair baseline (every table sync writes, 500 per transaction) "
            f"{r['fair_per_s']:8.1f} insp/s   sync / fair {r['fair_ratio']:.3f}   "
            f"writer lock per op {r['lock_ms_per_op']:.2f} ms, fair transaction per op "
            f"{r['fair_tx_ms_per_op']:.2f} ms   load {os.getloadavg()[0]:.1f}"
        )
        print(
            f"{'':9s} round by round (each sync round against the fair round after it): "
            f"sync / fair {r['paired_ratio']:.3f} (median)"
        )
        print(
            f"{'':9s} first sync round alone {r['sync_first_per_s']:8.1f} insp/s   "
            f"sync / fair {r['sync_first_per_s'] / r['fair_per_s']:.3f}"
        )
        print(f"{'':9s} rows per fair round: {runs[0]['fair_rows']}")
        if profile is not None:
            stats = pstats.Stats(profile)  # the last run's
            stats.sort_stats("cumulative").print_stats(args.profile)
            stats.sort_stats("tottime").print_stats(args.profile)


if __name__ == "__main__":
    main()
