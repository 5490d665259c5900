"""Photos: resumable, hash-checked, size-limited; evidence pending until they arrive."""

from __future__ import annotations

import hashlib
import uuid

from server.db import session_scope
from server.models import Inspection
from tests.logins import DEMO_PASSWORD
from tests.sync.helpers import record, submitted, village


def _h(client):
    r = client.post(
        "/api/auth/login",
        json={
            "username": "inspector",
            "password": DEMO_PASSWORD,
            "device_id": "d-1",
            "device_name": "phone",
        },
    )
    return {"Authorization": f"Bearer {r.json()['token']}"}


def _photo(data: bytes, item: str = "signboard") -> dict:
    return {
        "sha256": hashlib.sha256(data).hexdigest(),
        "item": item,
        "size": len(data),
        "mime": "image/jpeg",
        "taken_at": "2026-11-26T08:10:00+00:00",
    }


def _put(client, h, sha, chunk, start, total):
    end = start + len(chunk) - 1
    return client.put(
        f"/api/blobs/{sha}",
        content=chunk,
        headers={
            **h,
            "Content-Range": f"bytes {start}-{end}/{total}",
            "Content-Type": "image/jpeg",
        },
    )


def test_resumable_upload_and_evidence_pending(client, demo, engine, settings):
    h = _h(client)
    data = bytes(range(256)) * 40
    sha = hashlib.sha256(data).hexdigest()
    code, version = village(engine)
    rec = submitted(record(code, version, photos=[_photo(data)]))
    op = {
        "op_id": str(uuid.uuid4()),
        "type": "inspection.put",
        "record_id": rec["id"],
        "base_rev": 0,
        "hlc": "0001764144000000:0000:d-1",
        "data": rec,
    }
    resp = client.post(
        "/api/sync",
        headers=h,
        json={"protocol": 1, "device_id": "d-1", "cursor": None, "ops": [op]},
    ).json()
    assert sha in resp["missing_blobs"]
    with session_scope(engine) as s:
        got = s.get(Inspection, rec["id"])
        assert got.status == "submitted" and got.rating and not got.evidence_complete

    status = client.get(f"/api/blobs/{sha}/status", headers=h).json()
    assert status == {
        "sha256": sha,
        "received": 0,
        "complete": False,
        "max_bytes": settings.max_blob_bytes,
    }
    assert _put(client, h, sha, data[:4000], 0, len(data)).json()["received"] == 4000
    wrong = _put(client, h, sha, data[100:200], 100, len(data))
    assert wrong.status_code == 409
    assert wrong.json()["error"] | {} and wrong.json()["error"]["received"] == 4000
    assert client.get(f"/api/blobs/{sha}/status", headers=h).json()["received"] == 4000
    done = _put(client, h, sha, data[4000:], 4000, len(data))
    assert done.json() == {"sha256": sha, "received": len(data), "complete": True}
    assert client.get(f"/api/blobs/{sha}", headers=h).content == data
    with session_scope(engine) as s:
        assert s.get(Inspection, rec["id"]).evidence_complete
    resp = client.post(
        "/api/sync", headers=h, json={"protocol": 1, "device_id": "d-1", "cursor": None, "ops": []}
    ).json()
    assert resp["missing_blobs"] == []
    pulled = [i for i in resp["changes"]["inspections"] if i["id"] == rec["id"]]
    assert pulled[0]["evidence_pending"] is False


def test_hash_mismatch_is_discarded(client, demo):
    h = _h(client)
    sha = hashlib.sha256(b"the real photo").hexdigest()
    r = _put(client, h, sha, b"something else", 0, 14)
    assert r.status_code == 422 and r.json()["error"]["code"] == "hash_mismatch"
    assert client.get(f"/api/blobs/{sha}/status", headers=h).json()["received"] == 0


def test_too_large_says_so_in_words(client, demo, settings):
    h = _h(client)
    sha = "ab" * 32
    total = settings.max_blob_bytes + 1
    r = client.put(
        f"/api/blobs/{sha}", content=b"x", headers={**h, "Content-Range": f"bytes 0-0/{total}"}
    )
    err = r.json()["error"]
    assert r.status_code == 413 and err["code"] == "too_large"
    assert err["max_bytes"] == settings.max_blob_bytes
    assert "MB" in err["message_zh"] and "compress" in err["message_en"].lower()


def test_bad_names_and_ranges(client, demo):
    h = _h(client)
    assert client.get("/api/blobs/xyz/status", headers=h).json()["error"]["code"] == "bad_sha256"
    r = client.put(
        f"/api/blobs/{'ab' * 32}", content=b"x", headers={**h, "Content-Range": "bytes 5-1/3"}
    )
    assert r.json()["error"]["code"] == "bad_range"
    assert client.get(f"/api/blobs/{'ab' * 32}/status").status_code == 401
