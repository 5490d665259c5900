"""Authenticating a phone only reads; last_seen_at is written in a write transaction of its
own. (A read transaction that turns into a write fails at once on SQLite when another writer
committed meanwhile: bench/soak.py met it 21 times in 30 minutes.)"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session

from server.db import session_scope
from server.models import Device
from server.services.devices import authenticate


def _old_seen(engine, device_id: str) -> None:
    with session_scope(engine, write=True) as s:
        device = s.get(Device, device_id)
        device.last_seen_at = datetime(2020, 1, 1, tzinfo=UTC)
        s.add(device)


def test_authenticate_writes_nothing(engine, login):
    headers = login(device="d-seen")
    _old_seen(engine, "d-seen")
    with session_scope(engine) as s:
        caller = authenticate(s, headers["Authorization"])
        assert caller.device.id == "d-seen"
        assert not s.dirty and not s.new and not s.deleted


def test_a_request_still_stamps_last_seen(client, engine, login):
    headers = login(device="d-seen")
    for path in ("/api/devices", "/api/sync"):
        _old_seen(engine, "d-seen")
        if path == "/api/sync":
            body = {"protocol": 1, "device_id": "d-seen", "cursor": None, "ops": []}
            r = client.post(path, json=body, headers=headers)
        else:
            r = client.get(path, headers=headers)
        assert r.status_code == 200, r.text
        with Session(engine) as s:
            seen = s.get(Device, "d-seen").last_seen_at
        assert seen.year >= 2026, path
