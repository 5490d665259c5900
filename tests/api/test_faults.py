"""Fault test: a real uvicorn behind a proxy that cuts connections mid-request and
mid-response, SIGKILLed mid-batch and restarted, while phones push inspections and photos.
Once the phones have drained, the server holds exactly the union of what they wrote."""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
import threading
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlmodel import select

from server.db import session_scope
from server.models import Blob, Inspection, Quarantine, SyncOp
from sync.client import Client, SyncFailed
from sync.transport import HttpTransport
from tests.api.chaos import CuttingProxy
from tests.api.helpers import record, submitted, village
from tests.live import LiveServer, server_env
from tests.logins import DEMO_PASSWORD
from tests.sync.factories import photo_bytes

pytestmark = pytest.mark.chaos

PHONES, RECORDS, PHOTOS = 3, 5, 2


@pytest.fixture
def server(settings, demo, tmp_path):
    env = server_env(settings.database_url, settings.data_dir, settings.secret_key)
    with LiveServer(env, tmp_path / "server.log") as srv:
        yield srv


def _dump(srv: LiveServer) -> str:
    return srv.log_tail(80)


def _phone_work(n, port, tmp, codes, version, deadline, ops, saved):
    rng = random.Random(n)
    user = "inspector" if n % 2 == 0 else "inspector2"
    phone = Client(
        str(tmp / f"phone{n}.db"),
        HttpTransport(f"http://127.0.0.1:{port}", 10),
        f"d-chaos-{n}",
        batch_size=4,
        max_attempts=40,
        backoff_base=0.05,
        backoff_cap=0.5,
        blob_chunk=16 * 1024,
    )
    while True:
        try:
            phone.login(user, DEMO_PASSWORD)
            break
        except SyncFailed:
            continue

    def sync_some() -> None:
        with contextlib.suppress(SyncFailed):
            phone.sync()

    mine = []
    for i in range(RECORDS):
        photos = []
        for _ in range(PHOTOS):
            data = photo_bytes(rng.randbytes(rng.randint(20_000, 60_000)))
            sha = phone.add_photo(data)
            photos.append(
                {
                    "sha256": sha,
                    "item": "signboard",
                    "size": len(data),
                    "mime": "image/jpeg",
                    "taken_at": "2026-11-26T08:00:00+00:00",
                }
            )
        rec = record(
            codes[(n + i) % len(codes)],
            version,
            phone.device_id,
            answers={"book_volumes": rng.randint(0, 3000)},
            photos=photos,
        )
        ops.add(phone.save_inspection(rec))
        mine.append(rec)
        if i % 2:
            sync_some()
    for rec in mine:
        rec["answers"]["seats"] = rng.randint(0, 20)
        ops.add(phone.save_inspection(submitted(rec)))
        saved[rec["id"]] = submitted(rec)
    sync_some()
    while time.monotonic() < deadline:
        try:
            report = phone.sync()
        except SyncFailed:
            continue
        own = {p["sha256"] for r in mine for p in r["photos"]}
        if phone.pending_count() == 0 and not own & set(report.missing_blobs):
            phone.close()
            return
    raise AssertionError(f"phone {n} did not drain: {phone.pending_count()} ops left")


def test_cuts_and_kills_lose_nothing_and_double_nothing(server, settings, engine, tmp_path):
    codes = [village(engine, n)[0] for n in range(6)]
    version = village(engine)[1]
    proxy = CuttingProxy(server.port, seed=7)
    kills_wanted = 2
    kill_lock = threading.Lock()

    def maybe_kill(chunk: bytes) -> None:
        if b"POST /api/sync" not in chunk or server.kills >= kills_wanted:
            return
        if not kill_lock.acquire(blocking=False):
            return

        def later() -> None:
            try:
                time.sleep(0.02)  # the batch is being applied now
                server.kill()
                time.sleep(0.3)
                server.start()
            finally:
                kill_lock.release()

        threading.Thread(target=later, daemon=True).start()

    proxy.on_request = maybe_kill
    proxy.start()
    ops: set[str] = set()
    saved: dict[str, dict] = {}
    deadline = time.monotonic() + 75
    try:
        with ThreadPoolExecutor(PHONES) as pool:
            futures = [
                pool.submit(
                    _phone_work, n, proxy.port, tmp_path, codes, version, deadline, ops, saved
                )
                for n in range(PHONES)
            ]
            for f in futures:
                f.result()
    except Exception:
        print(_dump(server))
        raise
    finally:
        proxy.on_request = None
        proxy.stop()
    assert server.kills == kills_wanted, "the server was not killed mid-batch"
    assert proxy.cuts["request"] and proxy.cuts["response"]

    with session_scope(engine) as s:
        acked = set(s.exec(select(SyncOp.op_id).where(SyncOp.op_id.in_(list(ops)))).all())
        assert acked == ops  # every op exactly once (op_id is the primary key)
        assert not s.exec(select(Quarantine)).all()
        rows = s.exec(select(Inspection).where(Inspection.device_id.like("d-chaos-%"))).all()
        assert {r.id for r in rows} == set(saved)  # nothing lost, nothing extra
        for r in rows:
            want = saved[r.id]
            assert (r.answers, r.status) == (want["answers"], "submitted"), r.id
            assert r.rev in (1, 2)  # 1 when the edit was folded into the unsent create
            assert r.evidence_complete
        referenced = {p["sha256"] for i in s.exec(select(Inspection)).all() for p in i.photos}
        blobs = {b.sha256: b for b in s.exec(select(Blob)).all()}
    wanted = {p["sha256"] for r in saved.values() for p in r["photos"]}
    assert wanted <= {sha for sha, b in blobs.items() if b.complete}
    store = Path(settings.data_dir) / "blobs"
    on_disk = {p.name for p in store.glob("??/*")}
    assert on_disk == referenced  # no orphaned photo, none missing
    for sha in wanted:
        assert hashlib.sha256((store / sha[:2] / sha).read_bytes()).hexdigest() == sha
    assert not [p for p in (store / "partial").glob("*") if p.suffix != ".lock"]


def test_identical_requests_racing_apply_once(server, engine):
    base = f"http://127.0.0.1:{server.port}"
    token = server.login("inspector", "d-race")
    code, version = village(engine)
    for _ in range(8):
        rec = record(code, version, "d-race")
        body = json.dumps(
            {
                "protocol": 1,
                "device_id": "d-race",
                "cursor": None,
                "ops": [
                    {
                        "op_id": str(uuid.uuid4()),
                        "type": "inspection.put",
                        "record_id": rec["id"],
                        "base_rev": 0,
                        "hlc": "0001764144000000:0000:d-race",
                        "data": rec,
                    }
                ],
            }
        ).encode()
        barrier = threading.Barrier(4)

        def send(body=body, barrier=barrier):
            barrier.wait()
            r = urllib.request.Request(
                base + "/api/sync",
                data=body,
                method="POST",
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
            )
            return json.loads(urllib.request.urlopen(r, timeout=30).read())["acks"]

        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(lambda _: send(), range(4)))
        assert all(a == answers[0] for a in answers)
        assert answers[0][0]["status"] == "applied" and answers[0][0]["rev"] == 1
        with session_scope(engine) as s:
            assert s.get(Inspection, rec["id"]).rev == 1
