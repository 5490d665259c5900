"""A stalled photo upload must never stall the server (issue 11, part 1).

Two uploads of the same photo at once used to hang every request, /healthz too, because the
second one waited for a file lock on the event loop. These run a real `xunjian serve` and
talk raw HTTP, so a stalled phone is exactly that: a socket that sent half a body and went
quiet."""

from __future__ import annotations

import hashlib
import json
import socket
import time
import urllib.request

import pytest

from tests.api.helpers import record, submitted, village
from tests.live import LiveServer, server_env
from tests.sync.factories import op, photo

PHOTO = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 400  # a JPEG head, ~100 KiB
SHA = hashlib.sha256(PHOTO).hexdigest()


@pytest.fixture
def server(settings, demo, tmp_path):
    env = server_env(settings.database_url, settings.data_dir, settings.secret_key)
    env["XUNJIAN_UPLOAD_IDLE_SECONDS"] = "3"
    with LiveServer(env, tmp_path / "serve.log") as srv:
        yield srv


def _named_by_a_record(srv: LiveServer, engine) -> str:
    """Log in and sync a record naming the photo (uploads follow their record)."""
    token = srv.login()
    code, version = village(engine)
    rec = submitted(record(code, version, photos=[photo(PHOTO)]))
    body = {"protocol": 1, "device_id": "d-1", "cursor": None, "ops": [op(rec)]}
    answer = srv.post("/api/sync", body, token)
    assert answer["acks"][0]["status"] == "applied" and SHA in answer["missing_blobs"]
    return token


def _start_put(srv: LiveServer, token: str, start: int, body: bytes) -> socket.socket:
    """Headers for the rest of the photo from `start`, and then only `body` of it."""
    sock = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    end = len(PHOTO) - 1
    head = (
        f"PUT /api/blobs/{SHA} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: image/jpeg\r\n"
        f"Content-Range: bytes {start}-{end}/{len(PHOTO)}\r\n"
        f"Content-Length: {len(PHOTO) - start}\r\nConnection: close\r\n\r\n"
    )
    sock.sendall(head.encode() + body)
    return sock


def _answer(sock: socket.socket) -> tuple[int, dict, str]:
    raw = b""
    while chunk := sock.recv(65536):
        raw += chunk
    sock.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split()[1])
    return status, json.loads(body), head.decode()


def _get(srv: LiveServer, path: str, token: str | None = None, timeout: float = 3) -> dict:
    req = urllib.request.Request(srv.url + path)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())


def test_second_upload_of_a_stalled_photo_stalls_nothing(server, engine, settings):
    token = _named_by_a_record(server, engine)
    stalled = _start_put(server, token, 0, PHOTO[:40_000])
    time.sleep(0.3)  # the first upload holds the photo now
    second = _start_put(server, token, 0, PHOTO)
    time.sleep(0.5)  # and the second one is waiting for it

    began = time.monotonic()
    assert _get(server, "/healthz")["status"] == "ok", server.log_tail()
    assert time.monotonic() - began < 2

    status, body, head = _answer(second)
    assert status == 503 and body["error"]["code"] == "upload_busy"
    assert "Retry-After:" in head or "retry-after:" in head

    # The stalled phone never comes back: after the idle limit the server keeps what arrived
    # and lets the photo go, without anyone closing the socket.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        held = _get(server, f"/api/blobs/{SHA}/status", token)["received"]
        if held == 40_000:
            break
        time.sleep(0.2)
    assert held == 40_000
    resumed = _start_put(server, token, 40_000, PHOTO[40_000:])
    status, body, _ = _answer(resumed)
    assert status == 200 and body == {"sha256": SHA, "received": len(PHOTO), "complete": True}
    stalled.close()

    partial = settings.data_path / "blobs" / "partial"
    assert sorted(p.name for p in partial.iterdir()) == [], "no lock files, no partial left"


def test_many_phones_uploading_one_photo_all_finish(server, engine, settings):
    """Ten retries of one photo racing each other: one wins, the rest are told to wait or
    find it complete; the bytes on disk are the photo, once."""
    token = _named_by_a_record(server, engine)
    socks = [_start_put(server, token, 0, PHOTO) for _ in range(10)]
    answers = [_answer(s) for s in socks]
    statuses = sorted(a[0] for a in answers)
    assert set(statuses) <= {200, 409, 503}, answers
    assert _get(server, f"/api/blobs/{SHA}/status", token)["complete"] is True
    stored = settings.data_path / "blobs" / SHA[:2] / SHA
    assert stored.read_bytes() == PHOTO
    assert list((settings.data_path / "blobs" / "partial").iterdir()) == []
