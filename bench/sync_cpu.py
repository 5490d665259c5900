"""Server CPU per request, one phone at a time: the floor under any burst's latency.

One `xunjian serve` (one worker) and one reference client, strictly sequential. Before and
after every request the server process's CPU time (user + system, all threads, from
/proc/<pid>/stat) is read, so each request's figure is the CPU the server spent on it,
whatever else the machine was doing. n requests of CPU c arriving together on k cores
cannot all be answered before n·c/k, however the locks are arranged.

    .venv/bin/python bench/sync_cpu.py [--db sqlite|postgres] [--rounds 10]
        [--inspections 30] [--photos 2] [--photo-kb 200]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

from sqlmodel import Session, select
from sync_common import PASSWORD, full_record, load_demo, new_database, settings_for
from sync_load import PREFIX, add_accounts, attach_photos, kind_of, pct

from server.db import make_engine
from server.models import ServicePoint
from sync.client import Client
from sync.transport import HttpTransport, Response
from tests.live import LiveServer, server_env

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of the process (all its threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def postgres_cpu() -> float:
    """CPU seconds of every `postgres` process on the machine (other users' queries too:
    read it on a quiet machine)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        if "(postgres)" in text:
            fields = text.rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / TICK
    return total


class CpuTransport(HttpTransport):
    """Records (kind, server CPU ms, database CPU ms, wall ms, status) of every request."""

    def __init__(self, base_url: str, pid: int, log: list, pg: bool) -> None:
        super().__init__(base_url, timeout=60)
        self.pid, self.log, self.on, self.pg = pid, log, False, pg

    def request(self, method, path, headers, body) -> Response:
        time.sleep(0.05)  # let the server finish what the last answer left (access log, GC)
        c0, d0, t0 = cpu_seconds(self.pid), self.db_cpu(), time.perf_counter()
        resp = super().request(method, path, headers, body)
        wall = (time.perf_counter() - t0) * 1000
        time.sleep(0.05)
        cpu = (cpu_seconds(self.pid) - c0) * 1000
        db = (self.db_cpu() - d0) * 1000
        if self.on:
            self.log.append((kind_of(method, path), cpu, db, wall, resp.status))
        return resp

    def db_cpu(self) -> float:
        return postgres_cpu() if self.pg else 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--db", default="sqlite", choices=["sqlite", "postgres"])
    ap.add_argument("--rounds", type=int, default=10, help="phones, each syncing once")
    ap.add_argument("--inspections", type=int, default=30)
    ap.add_argument("--photos", type=int, default=2)
    ap.add_argument("--photo-kb", type=int, default=200)
    args = ap.parse_args()

    url, cleanup = new_database(args.db)
    settings = settings_for(url)
    engine = make_engine(url)
    load_demo(engine, settings)
    add_accounts(engine, args.rounds)
    with Session(engine) as s:
        codes = list(s.exec(select(ServicePoint.code).where(ServicePoint.kind == "village")))
    env = server_env(settings.database_url, settings.data_dir, settings.secret_key)
    folder = tempfile.mkdtemp(prefix="xj-cpu-")
    server = LiveServer(env, Path(folder) / "server.log")
    server.start(timeout=120)
    assert server.proc is not None
    log: list = []
    load = os.getloadavg()
    try:
        for i in range(args.rounds):
            rng = random.Random(1000 + i)
            device = f"load-{i}"
            transport = CpuTransport(server.url, server.proc.pid, log, args.db == "postgres")
            phone = Client(os.path.join(folder, f"p{i}.db"), transport, device, batch_size=100)
            phone.login(f"{PREFIX}{i}", PASSWORD)
            phone.sync()
            for j in range(args.inspections):
                rec = full_record(rng, codes[(i * 7 + j) % len(codes)], device)
                items = ("signboard", "shelving", "reading_room")[: args.photos]
                attach_photos(phone, rec, rng, items, args.photo_kb)
                phone.save_inspection(rec)
            transport.on = True
            phone.sync()
    finally:
        server.stop()
        engine.dispose()
        cleanup()
    kinds: dict[str, list[tuple[float, float, float]]] = {}
    for kind, cpu, db, wall, status in log:
        if status < 400:
            kinds.setdefault(kind, []).append((cpu, db, wall))
    figures = {
        "db": args.db,
        "inspections_per_request": args.inspections,
        "photo_kb": args.photo_kb,
        "clock_tick_ms": 1000 / TICK,
        "loadavg_before": [round(x, 2) for x in load],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "kinds": {
            k: {
                "n": len(v),
                "cpu_mean_ms": round(statistics.fmean(c for c, _, _ in v), 1),
                "cpu_p50_ms": round(pct([c for c, _, _ in v], 50), 1),
                "postgres_cpu_mean_ms": round(statistics.fmean(d for _, d, _ in v), 1),
                "wall_p50_ms": round(pct([w for _, _, w in v], 50), 1),
            }
            for k, v in sorted(kinds.items())
        },
    }
    print(json.dumps(figures, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
