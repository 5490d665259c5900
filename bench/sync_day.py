"""Time to sync a day's work over a slow link: 30 full inspections + 60 photos of 200 KB,
through a proxy that limits bandwidth and adds latency, against two floors:

- physical: every byte that crossed, up and down, over the bandwidth, plus 2 round trips
  (opening the connection, then the sync request's answer). Nothing can be faster.
- sequential: the bytes plus one round trip per request (1 sync + 1 per photo): the best
  a client that sends one photo after another can do.

The timed run starts after an idle pause longer than the server's keep-alive, so it pays
for opening its connections again, as a phone coming back to the app does.

    .venv/bin/python bench/sync_day.py [--kbps 500] [--rtt-ms 200] [--db sqlite]
        [--workers 3] [--idle 6]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

from sqlmodel import select
from sync_common import PASSWORD, ROOT, full_record, load_demo, new_database, settings_for

sys.path.insert(0, str(ROOT))
from server.db import make_engine
from server.models import ServicePoint
from sync.client import Client
from sync.transport import HttpTransport
from tests.live import LiveServer, free_port, server_env
from tests.sync.factories import JPEG_HEAD


class Link:
    """One direction of a shared link: bytes queue behind each other at ``bps`` and each
    byte arrives ``delay`` seconds after it was sent."""

    def __init__(self, bps: float, delay: float) -> None:
        self.bps, self.delay, self.free_at, self.bytes = bps, delay, 0.0, 0

    def arrival(self, n: int) -> float:
        now = time.monotonic()
        self.free_at = max(now, self.free_at) + n / self.bps
        self.bytes += n
        return self.free_at + self.delay


class SlowProxy:
    def __init__(self, target: int, bps: float, rtt: float) -> None:
        self.target, self.port = target, free_port()
        self.up, self.down = Link(bps, rtt / 2), Link(bps, rtt / 2)
        self.connections = 0
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self._run, daemon=True).start()
        time.sleep(0.3)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", self.port))
        self.loop.run_forever()

    async def _handle(self, reader, writer) -> None:
        self.connections += 1
        # opening a TCP connection costs one round trip before the request can go
        await asyncio.sleep(self.up.delay + self.down.delay)
        up_r, up_w = await asyncio.open_connection("127.0.0.1", self.target)

        async def pipe(src, dst, link: Link) -> None:
            q: asyncio.Queue = asyncio.Queue()

            async def deliver() -> None:
                while True:
                    at, data = await q.get()
                    if data is None:
                        dst.close()
                        return
                    await asyncio.sleep(max(0.0, at - time.monotonic()))
                    dst.write(data)
                    await dst.drain()

            task = asyncio.create_task(deliver())
            while data := await src.read(16384):
                q.put_nowait((link.arrival(len(data)), data))
            q.put_nowait((0, None))
            await task

        await asyncio.gather(pipe(reader, up_w, self.up), pipe(up_r, writer, self.down))


class CountingTransport(HttpTransport):
    requests = 0
    _count_lock = threading.Lock()

    def request(self, method, path, headers, body):
        with self._count_lock:  # photos go up from several threads
            self.requests += 1
        return super().request(method, path, headers, body)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kbps", type=float, default=500, help="kilobytes per second, each way")
    ap.add_argument("--rtt-ms", type=float, default=200)
    ap.add_argument("--db", default="sqlite")
    ap.add_argument("--workers", type=int, default=3, help="photos uploaded at once")
    ap.add_argument("--idle", type=float, default=6, help="seconds idle before the timed run")
    args = ap.parse_args()
    url, cleanup = new_database(args.db)
    settings = settings_for(url)
    engine = make_engine(url)
    load_demo(engine, settings)
    with engine.connect():
        pass
    from sqlmodel import Session

    with Session(engine) as s:
        codes = s.exec(select(ServicePoint.code).where(ServicePoint.kind == "village")).all()
    engine.dispose()
    env = server_env(settings.database_url, settings.data_dir, settings.secret_key)
    server = LiveServer(env, Path(tempfile.mkdtemp()) / "server.log")
    server.start()
    proxy = SlowProxy(server.port, args.kbps * 1000, args.rtt_ms / 1000)
    try:
        rng = random.Random(5)
        phone = Client(
            str(Path(tempfile.mkdtemp()) / "phone.db"),
            HttpTransport(f"http://127.0.0.1:{server.port}"),
            "d-day",
            upload_workers=args.workers,
        )
        phone.login("inspector", PASSWORD)
        photo_bytes = 0
        for i in range(30):
            rec = full_record(rng, codes[i % len(codes)], "d-day")
            rec["photos"] = []
            for item in ("signboard", "shelving"):
                data = JPEG_HEAD + rng.randbytes(200 * 1024 - len(JPEG_HEAD))
                photo_bytes += len(data)
                sha = phone.add_photo(data)
                rec["photos"].append(
                    {
                        "sha256": hashlib.sha256(data).hexdigest(),
                        "item": item,
                        "size": len(data),
                        "mime": "image/jpeg",
                        "taken_at": rec["started_at"],
                    }
                )
                assert sha == rec["photos"][-1]["sha256"]
            phone.save_inspection(rec)
        # catch up with reference data first, so the timed run is the day's work alone
        phone.transport = CountingTransport(f"http://127.0.0.1:{proxy.port}", timeout=120)
        pending = phone.store.db.execute("SELECT body FROM outbox").fetchall()
        phone.store.db.execute("DELETE FROM outbox")
        phone.sync()
        phone.store.db.executemany(
            "INSERT INTO outbox(op_id, record_id, body) VALUES "
            "(json_extract(?1, '$.op_id'), json_extract(?1, "
            "'$.record_id'), ?1)",
            pending,
        )
        # idle past uvicorn's 5 s keep-alive: the server closes the connection, and the timed
        # run discovers that and opens new ones, as after a pause between villages
        time.sleep(args.idle)
        up0, down0, conns0 = proxy.up.bytes, proxy.down.bytes, proxy.connections
        phone.transport.requests = 0
        t0 = time.monotonic()
        report = phone.sync()
        took = time.monotonic() - t0
        up, down = proxy.up.bytes - up0, proxy.down.bytes - down0
        trips, conns = phone.transport.requests, proxy.connections - conns0
        assert report.blobs_uploaded == 60 and phone.pending_count() == 0, report
        bps, rtt = args.kbps * 1000, args.rtt_ms / 1000
        physical = (up + down) / bps + 2 * rtt
        sequential = max(up, down) / bps + (1 + 60) * rtt
        print(f"link {args.kbps:.0f} kB/s each way, RTT {args.rtt_ms:.0f} ms, db {args.db}")
        print(
            f"wire: up {up / 1e6:.2f} MB, down {down / 1e3:.1f} kB, "
            f"HTTP requests {trips}, new TCP connections {conns}, photos at once {args.workers}"
        )
        print(f"sync time {took:.1f} s after {args.idle:.0f} s idle")
        print(
            f"physical floor {physical:.1f} s ((up + down) / bandwidth + 2 RTT); "
            f"ratio {took / physical:.2f}"
        )
        print(
            f"sequential floor {sequential:.1f} s (bytes + 61 RTT, one photo after another); "
            f"ratio {took / sequential:.2f}"
        )
        print(
            "pure payload floor (no headers, no round trips): "
            f"{(30 * 456 + photo_bytes) / bps:.1f} s"
        )
    finally:
        server.stop()
        cleanup()


if __name__ == "__main__":
    main()
