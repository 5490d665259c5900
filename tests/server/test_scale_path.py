"""The scale path: `xunjian serve --workers 3` on the test's database, four phones syncing at
once through real HTTP. Every write lands exactly once whichever worker takes it, and every
phone ends with the server's copy."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlmodel import func, select

from server.db import session_scope
from server.models import Inspection, SyncOp
from sync.client import Client
from sync.transport import HttpTransport
from tests.api.helpers import record, submitted, village
from tests.live import LiveServer, server_env
from tests.logins import DEMO_PASSWORD

PHONES, RECORDS = 4, 8


@pytest.fixture
def workers(settings, demo, tmp_path):
    env = server_env(settings.database_url, settings.data_dir, settings.secret_key)
    with LiveServer(env, tmp_path / "serve.log", workers=3) as srv:
        yield srv.url


def _phone(n: int, base: str, tmp: Path, engine) -> tuple[set[str], dict[str, dict]]:
    phone = Client(str(tmp / f"phone{n}.db"), HttpTransport(base, 20), f"d-scale-{n}", batch_size=3)
    phone.login("inspector" if n % 2 == 0 else "inspector2", DEMO_PASSWORD)
    code, version = village(engine, n)
    ops, mine = set(), {}
    for i in range(RECORDS):
        rec = record(code, version, phone.device_id, answers={"seats": i})
        ops.add(phone.save_inspection(rec))
        if i % 3 == 0:
            phone.sync()
        rec = submitted({**rec, "answers": {"seats": i, "book_volumes": 1500 + i}})
        ops.add(phone.save_inspection(rec))
        mine[rec["id"]] = rec
    for _ in range(5):
        phone.sync()
        if phone.pending_count() == 0:
            break
    assert phone.pending_count() == 0
    local = {rid: phone.inspection(rid) for rid in mine}
    phone.close()
    return ops, {rid: {"saved": mine[rid], "local": local[rid]} for rid in mine}


def test_several_workers_apply_every_write_once(workers, engine, demo, tmp_path):
    with ThreadPoolExecutor(PHONES) as pool:
        results = list(pool.map(lambda n: _phone(n, workers, tmp_path, engine), range(PHONES)))
    all_ops = set().union(*(ops for ops, _ in results))
    records = {rid: v for _, recs in results for rid, v in recs.items()}
    assert len(records) == PHONES * RECORDS
    with session_scope(engine) as s:
        rows = {i.id: i for i in s.exec(select(Inspection).where(Inspection.id.in_(records)))}
        acked = set(s.exec(select(SyncOp.op_id).where(SyncOp.op_id.in_(all_ops))))
        total = s.exec(select(func.count()).select_from(Inspection)).one()
    assert set(rows) == set(records)
    assert acked == all_ops, "every op has exactly one stored ack"
    assert total == demo.inspections + PHONES * RECORDS  # the demo's plus the phones'
    for rid, row in rows.items():
        saved, local = records[rid]["saved"], records[rid]["local"]
        assert row.status == "submitted" and row.answers == saved["answers"]
        assert local["answers"] == saved["answers"] and local["status"] == "submitted"
