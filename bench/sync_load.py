"""Many phones syncing a day's work at the same moment, against a real `xunjian serve`.

Each device is the reference client (sync/client.py) with its own account and local store,
holding 30 full-checklist inspections and their photos. All devices log in and catch up on
reference data first; then they start together (one event across all processes) and each
runs one `sync()`: the ops in batches, then the photos 3 at a time. Every HTTP attempt is
timed at the transport, so a retry shows as two requests.

Figures: p50 / p99 / max per request kind, errors (any attempt answered 5xx, 429 or not at
all), and ops lost, counted in the database afterwards (inspections and complete photos
of the load accounts) after a second sync of every device catches up what errors left.

    .venv/bin/python bench/sync_load.py [--db sqlite|postgres] [--workers 1] [--devices 200]
        [--inspections 30] [--photos 2] [--photo-kb 200] [--procs 4] [--login-burst]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import multiprocessing as mp
import os
import random
import statistics
import tempfile
import threading
import time
from pathlib import Path

from sqlmodel import Session, func, select
from sync_common import PASSWORD, full_record, load_demo, new_database, settings_for

from server.db import make_engine
from server.models import Blob, Inspection, ServicePoint, User
from sync.client import Client
from sync.transport import HttpTransport, Response, TransportError
from tests.live import LiveServer, server_env
from tests.sync.factories import JPEG_HEAD

PREFIX = "load"


class TimedTransport(HttpTransport):
    """Records (kind, milliseconds, status) of every attempt; status 0 = no answer."""

    def __init__(self, base_url: str, log: list, timeout: float = 60) -> None:
        super().__init__(base_url, timeout=timeout)
        self.log = log
        self.on = False

    def request(self, method, path, headers, body) -> Response:
        kind = kind_of(method, path)
        t0 = time.perf_counter()
        try:
            resp = super().request(method, path, headers, body)
        except TransportError:
            if self.on:
                self.log.append((kind, (time.perf_counter() - t0) * 1000, 0))
            raise
        if self.on:
            self.log.append((kind, (time.perf_counter() - t0) * 1000, resp.status))
        return resp


def kind_of(method: str, path: str) -> str:
    if path.startswith("/api/sync"):
        return "sync"
    if path.startswith("/api/blobs"):
        return f"photo {method}"
    return f"{method} {path.split('?')[0]}"


def add_accounts(engine, n: int) -> None:
    """n inspectors of the demo county; one password hash shared (argon2 once, not n times)."""
    from server.db import session_scope
    from server.services.users import add_user

    with session_scope(engine, write=True) as s:
        first, _ = add_user(s, f"{PREFIX}0", "负载0", "inspector", "610424", password=PASSWORD)
        for i in range(1, n):
            u, _ = add_user(s, f"{PREFIX}{i}", f"负载{i}", "inspector", "610424", password="x" * 12)
            u.password_hash = first.password_hash
            s.add(u)


LOGINS = threading.Semaphore(1)


def prepare(i: int, url: str, codes: list[str], args, folder: str, log: list) -> Client:
    """A phone holding a day's work, logged in and caught up on reference data. Logins go
    one at a time per process unless --login-burst: then all at once, and timed."""
    rng = random.Random(1000 + i)
    device = f"load-{i}"
    phone = Client(
        os.path.join(folder, f"phone{i}.db"), TimedTransport(url, log), device, batch_size=100
    )
    with contextlib.nullcontext() if args.login_burst else LOGINS:
        phone.transport.on = args.login_burst
        phone.login(f"{PREFIX}{i}", PASSWORD)
        phone.transport.on = False
    phone.sync()  # reference data first: the timed run is the day's work alone
    for j in range(args.inspections):
        rec = full_record(rng, codes[(i * 7 + j) % len(codes)], device)
        items = ("signboard", "shelving", "reading_room")[: args.photos]
        attach_photos(phone, rec, rng, items, args.photo_kb)
        phone.save_inspection(rec)
    return phone


def device_proc(ids, url, codes, args, folder, ready, go, out) -> None:
    """One process driving several phones, each on its own thread."""
    logs: dict[int, list] = {i: [] for i in ids}
    phones: dict[int, Client] = {}
    failures: list[str] = []

    def setup(i: int) -> None:
        try:
            phones[i] = prepare(i, url, codes, args, folder, logs[i])
        except Exception as exc:
            failures.append(f"setup {i}: {type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=setup, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ready.put(len(phones))
    go.wait()
    walls: dict[int, float] = {}

    def day(i: int) -> None:
        phone = phones[i]
        phone.transport.on = True
        t0 = time.perf_counter()
        try:
            phone.sync()
        except Exception as exc:  # counted; the catch-up below finishes the work
            failures.append(f"sync {i}: {type(exc).__name__}: {exc}")
        walls[i] = time.perf_counter() - t0

    threads = [threading.Thread(target=day, args=(i,)) for i in phones]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for phone in phones.values():
        phone.transport.on = False
    retried = 0
    for phone in phones.values():  # what a phone does on its next try: finish the work
        for _ in range(5):
            if phone.pending_count() == 0 and not unsent_photos(phone):
                break
            retried += 1
            try:
                phone.sync()
            except Exception as exc:
                failures.append(f"catch-up: {type(exc).__name__}: {exc}")
                time.sleep(1)
    records = [r for i in ids for r in logs[i]]
    out.put(
        {
            "records": records,
            "failures": failures,
            "walls": list(walls.values()),
            "pending": sum(p.pending_count() for p in phones.values()),
            "retried": retried,
        }
    )


def unsent_photos(phone: Client) -> int:
    return phone.store.db.execute("SELECT count(*) FROM blobs WHERE state != 'done'").fetchone()[0]


def complete_photos(s: Session) -> int:
    return s.exec(
        select(func.count()).select_from(Blob).where(Blob.complete.is_(True))  # type: ignore[attr-defined]
    ).one()


def attach_photos(phone, rec: dict, rng: random.Random, items, kb: int) -> None:
    """Random JPEG-headed photos of `kb` KiB for the given items, kept on the phone and named
    by the record (the soak and the load bench send the same shape)."""
    rec["photos"] = []
    for item in items:
        data = JPEG_HEAD + rng.randbytes(kb * 1024 - len(JPEG_HEAD))
        phone.add_photo(data)
        rec["photos"].append(
            {
                "sha256": hashlib.sha256(data).hexdigest(),
                "item": item,
                "size": len(data),
                "mime": "image/jpeg",
                "taken_at": rec["started_at"],
            }
        )


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process and its children (uvicorn's workers)."""
    tick = os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def pct(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--db", default="sqlite", choices=["sqlite", "postgres"])
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--devices", type=int, default=200)
    ap.add_argument("--inspections", type=int, default=30)
    ap.add_argument("--photos", type=int, default=2, help="photos per inspection (≤3)")
    ap.add_argument("--photo-kb", type=int, default=200)
    ap.add_argument("--procs", type=int, default=4, help="client processes")
    ap.add_argument("--json", help="also write the figures here")
    ap.add_argument(
        "--login-burst", action="store_true", help="all devices log in at once (timed too)"
    )
    args = ap.parse_args()

    url, cleanup = new_database(args.db)
    settings = settings_for(url)
    engine = make_engine(url)
    load_demo(engine, settings)
    add_accounts(engine, args.devices)
    with Session(engine) as s:
        codes = list(s.exec(select(ServicePoint.code).where(ServicePoint.kind == "village")))
        demo_photos = complete_photos(s)
    env = server_env(settings.database_url, settings.data_dir, settings.secret_key)
    folder = tempfile.mkdtemp(prefix="xj-load-")
    server = LiveServer(env, Path(folder) / "server.log", workers=args.workers)
    # several workers importing the app on a loaded machine can take a while to answer
    server.start(timeout=600)
    ctx = mp.get_context("fork")
    ready, out, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    ids = list(range(args.devices))
    groups = [ids[k :: args.procs] for k in range(args.procs)]
    try:
        procs = [
            ctx.Process(
                target=device_proc, args=(g, server.url, codes, args, folder, ready, go, out)
            )
            for g in groups
        ]
        for p in procs:
            p.start()
        n_ready = sum(ready.get(timeout=1800) for _ in procs)
        load_before = os.getloadavg()
        assert server.proc is not None
        cpu0 = tree_cpu(server.proc.pid)
        t0 = time.perf_counter()
        go.set()
        results = [out.get(timeout=3600) for _ in procs]
        wall = time.perf_counter() - t0
        server_cpu = tree_cpu(server.proc.pid) - cpu0
        load_after = os.getloadavg()
        for p in procs:
            p.join()
        with Session(engine) as s:
            load_users = select(User.id).where(User.username.startswith(PREFIX))  # type: ignore[attr-defined]
            stored = s.exec(
                select(func.count())
                .select_from(Inspection)
                .where(
                    Inspection.inspector_id.in_(load_users)  # type: ignore[attr-defined]
                )
            ).one()
            photos = complete_photos(s) - demo_photos
    finally:
        server.stop()
        engine.dispose()
    records = [r for res in results for r in res["records"]]
    failures = [f for res in results for f in res["failures"]]
    walls = [w for res in results for w in res["walls"]]
    expected_ops = args.devices * args.inspections
    expected_photos = args.devices * args.inspections * args.photos
    by_kind: dict[str, list[float]] = {}
    errors: dict[str, int] = {}
    for kind, ms, status in records:
        by_kind.setdefault(kind, []).append(ms)
        if status == 0 or status >= 500 or status == 429:
            key = f"{kind} {status or 'no answer'}"
            errors[key] = errors.get(key, 0) + 1
    figures = {
        "db": args.db,
        "workers": args.workers,
        "devices": n_ready,
        "inspections_per_device": args.inspections,
        "photos_per_device": args.inspections * args.photos,
        "photo_kb": args.photo_kb,
        "wall_s": round(wall, 1),
        "server_cpu_s": round(server_cpu, 1),
        "device_sync_s": {
            "p50": round(pct(walls, 50), 1),
            "max": round(max(walls, default=0), 1),
        },
        "kinds": {
            k: {
                "n": len(v),
                "p50_ms": round(pct(v, 50)),
                "p99_ms": round(pct(v, 99)),
                "max_ms": round(max(v)),
                "mean_ms": round(statistics.fmean(v)),
            }
            for k, v in sorted(by_kind.items())
        },
        "errors": errors,
        "failures": failures[:10],
        "failures_total": len(failures),
        "ops_expected": expected_ops,
        "ops_stored": stored,
        "ops_lost": expected_ops - stored,
        "photos_expected": expected_photos,
        "photos_stored": photos,
        "photos_lost": expected_photos - photos,
        "pending_in_outboxes": sum(res["pending"] for res in results),
        "loadavg_before": [round(x, 1) for x in load_before],
        "loadavg_after": [round(x, 1) for x in load_after],
    }
    cleanup()
    print(json.dumps(figures, indent=1, ensure_ascii=False))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
