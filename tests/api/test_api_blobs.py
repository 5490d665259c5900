"""Photos: resumable, hash-checked, size-limited; evidence pending until they arrive."""

from __future__ import annotations

import hashlib
import uuid

import pytest

from server.db import session_scope
from server.models import Blob, Inspection
from server.services.blobstore import write_complete
from tests.api.helpers import record, submitted, village
from tests.logins import DEMO_PASSWORD
from tests.sync.factories import photo_bytes

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(40))
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(range(28))
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


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


def _named(client, h, engine, *shas: str) -> None:
    """Sync a draft naming these photos: a photo is uploaded only after a record of its
    sender names it (issue 11)."""
    code, version = village(engine)
    photos = [{**_photo(b""), "sha256": sha, "size": 1} for sha in shas]
    rec = record(code, version, photos=photos)
    op = {
        "op_id": str(uuid.uuid4()),
        "type": "inspection.put",
        "record_id": rec["id"],
        "base_rev": 0,
        "hlc": "0001764144000000:0000:d-1",
        "data": rec,
    }
    body = {"protocol": 1, "device_id": "d-1", "cursor": None, "ops": [op]}
    ack = client.post("/api/sync", headers=h, json=body).json()["acks"][0]
    assert ack["status"] == "applied", ack


def _put(client, h, sha, chunk, start, total, mime="image/jpeg"):
    end = start + len(chunk) - 1
    return client.put(
        f"/api/blobs/{sha}",
        content=chunk,
        headers={**h, "Content-Range": f"bytes {start}-{end}/{total}", "Content-Type": mime},
    )


def test_resumable_upload_and_evidence_pending(client, demo, engine, settings):
    h = _h(client)
    data = photo_bytes(bytes(range(256)) * 40)
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
    # the op sent again (its ack lost) is answered from its stored ack, and does not hide
    # what changed since: the record as it is now, its evidence complete
    again = client.post(
        "/api/sync",
        headers=h,
        json={"protocol": 1, "device_id": "d-1", "cursor": None, "ops": [op]},
    ).json()
    assert again["acks"][0]["status"] == "applied"
    pulled = [i for i in again["changes"]["inspections"] if i["id"] == rec["id"]]
    assert [i["evidence_pending"] for i in pulled] == [False]


def test_hash_mismatch_is_discarded(client, demo, engine):
    h = _h(client)
    sha = hashlib.sha256(photo_bytes(b"the real photo")).hexdigest()
    _named(client, h, engine, sha)
    other = photo_bytes(b"something else")
    r = _put(client, h, sha, other, 0, len(other))
    assert r.status_code == 422 and r.json()["error"]["code"] == "hash_mismatch"
    assert client.get(f"/api/blobs/{sha}/status", headers=h).json()["received"] == 0


def test_too_large_says_so_in_words(client, demo, settings, engine):
    h = _h(client)
    sha = "ab" * 32
    _named(client, h, engine, sha)
    total = settings.max_blob_bytes + 1
    r = client.put(
        f"/api/blobs/{sha}", content=b"x", headers={**h, "Content-Range": f"bytes 0-0/{total}"}
    )
    err = r.json()["error"]
    assert r.status_code == 413 and err["code"] == "too_large"
    assert err["max_bytes"] == settings.max_blob_bytes
    assert "MB" in err["message_zh"] and "compress" in err["message_en"].lower()


def test_bad_names_and_ranges(client, demo, engine):
    h = _h(client)
    _named(client, h, engine, "ab" * 32)
    assert client.get("/api/blobs/xyz/status", headers=h).json()["error"]["code"] == "bad_sha256"
    r = client.put(
        f"/api/blobs/{'ab' * 32}", content=b"x", headers={**h, "Content-Range": "bytes 5-1/3"}
    )
    assert r.json()["error"]["code"] == "bad_range"
    assert client.get(f"/api/blobs/{'ab' * 32}/status").status_code == 401


def _stored_mime(engine, sha):
    with session_scope(engine) as s:
        return s.get(Blob, sha).mime


@pytest.mark.parametrize(
    ("data", "mime"),
    [(photo_bytes(b"x" * 50), "image/jpeg"), (PNG, "image/png"), (WEBP, "image/webp")],
)
def test_photo_type_is_read_from_the_bytes_not_the_header(client, demo, engine, data, mime):
    """The field app used to say application/octet-stream; a client may say anything."""
    h = _h(client)
    sha = hashlib.sha256(data).hexdigest()
    _named(client, h, engine, sha)
    assert _put(client, h, sha, data, 0, len(data), "application/octet-stream").status_code == 200
    assert _stored_mime(engine, sha) == mime
    got = client.get(f"/api/blobs/{sha}", headers=h)
    assert got.content == data and got.headers["content-type"] == mime
    assert "content-disposition" not in got.headers


def test_svg_is_refused_as_soon_as_its_head_arrives(client, demo, engine):
    h = _h(client)
    data = SVG * 100
    sha = hashlib.sha256(data).hexdigest()
    _named(client, h, engine, sha)
    r = _put(client, h, sha, data[:4000], 0, len(data), "image/jpeg")
    err = r.json()["error"]
    assert r.status_code == 415 and err["code"] == "unsupported_type"
    assert "JPEG" in err["message_zh"] and "WebP" in err["message_en"]
    assert client.get(f"/api/blobs/{sha}/status", headers=h).json()["received"] == 0
    assert client.get(f"/api/blobs/{sha}", headers=h).status_code == 404


def test_a_head_split_across_requests_is_judged_once_whole(client, demo, engine):
    h = _h(client)
    for data, status in ((WEBP, 200), (b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(28), 415)):
        sha = hashlib.sha256(data).hexdigest()
        _named(client, h, engine, sha)
        assert _put(client, h, sha, data[:5], 0, len(data)).status_code == 200  # undecided
        assert _put(client, h, sha, data[5:], 5, len(data)).status_code == status
    assert _stored_mime(engine, hashlib.sha256(WEBP).hexdigest()) == "image/webp"


def test_a_tiny_file_that_is_no_photo_is_refused_whole(client, demo, engine):
    h = _h(client)
    sha = hashlib.sha256(b"<svg/>").hexdigest()
    _named(client, h, engine, sha)
    assert _put(client, h, sha, b"<svg/>", 0, 6).json()["error"]["code"] == "unsupported_type"


def test_a_file_stored_before_sniffing_is_served_as_a_download(client, demo, settings, engine):
    """A non-photo that reached the store earlier is never rendered inline."""
    h = _h(client)
    sha = write_complete(settings.data_path, SVG)
    _named(client, h, engine, sha)
    got = client.get(f"/api/blobs/{sha}", headers=h)
    assert got.headers["content-type"] == "application/octet-stream"
    assert got.headers["content-disposition"].startswith("attachment")
