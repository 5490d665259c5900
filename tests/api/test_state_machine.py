"""Random multi-device histories against the real app and database.

Several phones (two for one inspector, one for another) create, edit and submit inspections
while their requests are lost, their responses are lost, requests are duplicated, and old
requests arrive again long after. After every history the phones drain their outboxes, and
then: every op landed exactly once, no write was silently lost, and every phone agrees with
the server.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from typing import ClassVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlmodel import select

from server.db import session_scope
from server.models import Inspection, InspectionRevision, Quarantine, SyncConflict, SyncOp
from sync.client import Client, SyncFailed
from sync.records import normalize
from sync.transport import TransportError
from tests.api.helpers import TestClientTransport, record, village
from tests.logins import DEMO_PASSWORD

FIELDS = ("book_volumes", "seats", "notes")


class Faulty:
    """Transport wrapper: drops requests or responses, duplicates, and keeps copies of sync
    requests so a rule can deliver one again later (a delayed duplicate)."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.plan: list[str] = []
        self.captured: list[tuple[dict, bytes | None]] = []

    def request(self, method, path, headers, body):
        fault = self.plan.pop(0) if self.plan else "ok"
        if path == "/api/sync":
            self.captured.append((dict(headers), body))
        if fault == "drop_request":
            raise TransportError("lost on the way")
        resp = self.inner.request(method, path, headers, body)
        if fault == "duplicate":
            resp = self.inner.request(method, path, headers, body)
        if fault == "drop_response":
            Histories.env["stats"]["lost_responses"] += 1
            raise TransportError("answer lost")
        return resp


class Histories(RuleBasedStateMachine):
    env: ClassVar[dict] = {}

    def __init__(self) -> None:
        super().__init__()
        tmp, web = self.env["tmp"], self.env["client"]
        self.codes = self.env["codes"]
        self.version = self.env["version"]
        self.phones: list[tuple[Client, Faulty, str]] = []
        for user in ("inspector", "inspector", "inspector2"):
            wire = Faulty(TestClientTransport(web))
            dev = f"d-{uuid.uuid4().hex[:10]}"
            phone = Client(
                str(tmp / f"{dev}.db"),
                wire,
                dev,
                batch_size=3,
                max_attempts=4,
                sleep=lambda s: None,
            )
            phone.login(user, DEMO_PASSWORD)
            self.phones.append((phone, wire, user))
        self.records: dict[str, str] = {}  # record id -> owner username
        self.op_ids: set[str] = set()
        self.writes: list[tuple[str, str, object]] = []  # (record, field, value) in order

    def _save(self, phone: Client, rec: dict) -> None:
        before = phone.inspection(rec["id"]) or {}
        for f in FIELDS:
            old = before.get("notes") if f == "notes" else before.get("answers", {}).get(f)
            new = rec.get("notes") if f == "notes" else rec["answers"].get(f)
            if old != new:
                self.writes.append((rec["id"], f, new))
        self.op_ids.add(phone.save_inspection(rec))

    @rule(p=st.integers(0, 2), point=st.integers(0, 3), books=st.integers(0, 3000))
    def create(self, p, point, books):
        phone, _, user = self.phones[p]
        rec = record(
            self.codes[point], self.version, phone.device_id, answers={"book_volumes": books}
        )
        self.records[rec["id"]] = user
        self._save(phone, rec)

    def _mine(self, p):
        phone, _, user = self.phones[p]
        return [
            r
            for r, owner in sorted(self.records.items())
            if owner == user and phone.inspection(r) is not None
        ]

    @rule(
        p=st.integers(0, 2),
        pick=st.integers(0, 50),
        field=st.sampled_from(FIELDS),
        value=st.integers(0, 40),
    )
    def edit(self, p, pick, field, value):
        mine = self._mine(p)
        if not mine:
            return
        phone = self.phones[p][0]
        rec = dict(phone.inspection(mine[pick % len(mine)]))
        rec["answers"] = dict(rec["answers"])
        if field == "notes":
            rec["notes"] = f"note {value}"
        else:
            rec["answers"][field] = value
        self._save(phone, rec)

    @rule(p=st.integers(0, 2), pick=st.integers(0, 50))
    def submit(self, p, pick):
        mine = self._mine(p)
        if not mine:
            return
        phone = self.phones[p][0]
        rec = phone.inspection(mine[pick % len(mine)])
        if rec["status"] != "submitted":
            self._save(
                phone, {**rec, "status": "submitted", "submitted_at": "2026-11-26T10:00:00+00:00"}
            )

    @rule(
        p=st.integers(0, 2),
        faults=st.lists(
            st.sampled_from(["ok", "drop_request", "drop_response", "duplicate"]), max_size=6
        ),
    )
    def sync(self, p, faults):
        phone, wire, _ = self.phones[p]
        wire.plan = list(faults)
        with contextlib.suppress(SyncFailed):  # out of retries: the outbox keeps it all
            phone.sync()
        wire.plan = []

    @rule()
    def share(self):
        """Both of the first inspector's phones sync, so each holds the other's records."""
        for phone, _, _ in self.phones[:2] + self.phones[:1]:
            phone.sync()

    @rule(
        pick=st.integers(0, 50),
        field=st.sampled_from(FIELDS),
        a=st.integers(0, 9),
        b=st.integers(10, 19),
    )
    def concurrent_edit(self, pick, field, a, b):
        """Both phones change the same field of the same record while out of touch."""
        self.share()
        shared = sorted(set(self._mine(0)) & set(self._mine(1)))
        if shared:
            rid = shared[pick % len(shared)]
            for p, value in ((0, a), (1, b)):
                phone = self.phones[p][0]
                rec = dict(phone.inspection(rid))
                rec["answers"] = dict(rec["answers"])
                if field == "notes":
                    rec["notes"] = f"note {value}"
                else:
                    rec["answers"][field] = value
                self._save(phone, rec)

    @rule(p=st.integers(0, 2))
    def sync_answer_lost(self, p):
        """The server applies the batch but the phone never hears back; it then retries."""
        phone, wire, _ = self.phones[p]
        if phone.pending_count():
            wire.plan = ["drop_response"]
            phone.sync()
            wire.plan = []

    @precondition(lambda self: any(w.captured for _, w, _ in self.phones))
    @rule(p=st.integers(0, 2), pick=st.integers(0, 100))
    def late_duplicate(self, p, pick):
        _, wire, _ = self.phones[p]
        if wire.captured:
            headers, body = wire.captured[pick % len(wire.captured)]
            wire.inner.request("POST", "/api/sync", headers, body)
            self.env["stats"]["late_duplicates"] += 1

    @invariant()
    def outbox_holds_only_ops_the_phones_made(self):
        for phone, _, _ in self.phones:
            for (op_id,) in phone.store.db.execute("SELECT op_id FROM outbox"):
                assert op_id in self.op_ids

    def teardown(self):
        try:
            self._check()
        finally:
            for phone, _, _ in self.phones:
                phone.close()

    def _check(self):
        for _ in range(2):  # drain, then one more round so every phone sees the last writes
            for phone, wire, _ in self.phones:
                wire.plan = []
                phone.sync()
        for phone, _, _ in self.phones:
            assert phone.pending_count() == 0
        with session_scope(self.env["engine"]) as s:
            ops = {
                r.op_id: r
                for r in s.exec(select(SyncOp).where(SyncOp.op_id.in_(list(self.op_ids) or [""])))
            }
            assert set(ops) == self.op_ids  # every op landed, and exactly once (primary key)
            assert not s.exec(
                select(Quarantine).where(Quarantine.op_id.in_(list(self.op_ids) or [""]))
            ).all()
            server = {}
            for rid in self.records:
                insp = s.get(Inspection, rid)
                assert insp is not None
                revs = s.exec(
                    select(InspectionRevision.rev).where(InspectionRevision.inspection_id == rid)
                ).all()
                assert sorted(revs) == list(range(1, insp.rev + 1))
                snap = s.get(InspectionRevision, (rid, insp.rev)).data
                server[rid] = snap
                conflicts = s.exec(
                    select(SyncConflict).where(SyncConflict.inspection_id == rid)
                ).all()
                self.env["stats"]["conflicts"] += len(conflicts)
                kept = {
                    (c["field"], json.dumps(c[side]))
                    for x in conflicts
                    for c in x.fields
                    for side in ("server", "client")
                }
                last: dict[str, object] = {}
                for r, f, v in self.writes:
                    if r == rid:
                        last[f] = v
                for f, v in last.items():
                    final = snap["notes"] if f == "notes" else snap["answers"].get(f)
                    path = f if f == "notes" else f"answers.{f}"
                    assert final == v or (path, json.dumps(v)) in kept, (rid, f, v, final)
        for phone, _, user in self.phones:
            for rid, owner in self.records.items():
                if owner == user:
                    local = phone.inspection(rid)
                    assert local is not None
                    trimmed = {k: v for k, v in local.items() if k in server[rid]}
                    assert normalize(trimmed) == normalize(server[rid]), rid


@pytest.mark.parametrize("steps", [30])
def test_histories_converge_exactly_once(client, demo, engine, tmp_path, db_url, steps):
    codes = [village(engine, n)[0] for n in range(4)]
    stats = {"conflicts": 0, "lost_responses": 0, "late_duplicates": 0}
    Histories.env = {
        "client": client,
        "engine": engine,
        "tmp": tmp_path,
        "codes": codes,
        "version": village(engine)[1],
        "stats": stats,
    }
    examples = 12 if db_url.startswith("sqlite") else 8
    run_state_machine_as_test(
        Histories,
        settings=settings(
            max_examples=examples,
            derandomize=True,
            stateful_step_count=steps,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        ),
    )
    print("state machine stats:", stats)
    # the histories must actually exercise what they claim to
    assert stats["lost_responses"] and stats["late_duplicates"] and stats["conflicts"]
