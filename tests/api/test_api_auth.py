"""Device tokens: hashed, rotatable, revocable, expiring, each refusal with its own code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from server.db import session_scope
from server.models import Device
from server.services.auth import token_digest
from tests.logins import DEMO_PASSWORD

SYNC = {"protocol": 1, "device_id": "d-1", "cursor": None, "ops": []}


def _login(client, password=DEMO_PASSWORD, device="d-1"):
    return client.post(
        "/api/auth/login",
        json={
            "username": "inspector",
            "password": password,
            "device_id": device,
            "device_name": "phone",
        },
    )


def _code(resp):
    return resp.status_code, resp.json()["error"]["code"]


def test_login_issues_a_hashed_token(client, demo, engine):
    r = _login(client)
    body = r.json()
    assert r.status_code == 200 and body["user"]["role"] == "inspector"
    assert body["limits"]["max_blob_bytes"] > 0 and body["server_time"]
    expires = datetime.fromisoformat(body["expires_at"])
    assert expires - datetime.now(UTC) > timedelta(days=59)
    with session_scope(engine) as s:
        dev = s.get(Device, "d-1")
        assert dev.token_hash == token_digest(body["token"]) != body["token"]


def test_refusals_carry_codes(client, demo, engine):
    assert _code(_login(client, password="wrong")) == (401, "bad_credentials")
    assert _code(client.post("/api/sync", json=SYNC)) == (401, "token_invalid")
    bad = {"Authorization": "Bearer nonsense"}
    assert _code(client.post("/api/sync", json=SYNC, headers=bad)) == (401, "token_invalid")

    old = {"Authorization": f"Bearer {_login(client).json()['token']}"}
    rotated = client.post("/api/auth/rotate", headers=old).json()["token"]
    new = {"Authorization": f"Bearer {rotated}"}
    assert _code(client.post("/api/sync", json=SYNC, headers=old)) == (401, "token_revoked")
    assert client.post("/api/sync", json=SYNC, headers=new).status_code == 200

    with session_scope(engine, write=True) as s:
        dev = s.get(Device, "d-1")
        dev.token_expires_at = datetime.now(UTC) - timedelta(seconds=1)
        s.add(dev)
    assert _code(client.post("/api/sync", json=SYNC, headers=new)) == (401, "token_expired")

    fresh = {"Authorization": f"Bearer {_login(client).json()['token']}"}
    assert client.post("/api/auth/logout", headers=fresh).status_code == 200
    assert _code(client.post("/api/sync", json=SYNC, headers=fresh)) == (401, "token_revoked")


def test_supervisor_revokes_a_lost_phone(client, demo):
    phone = {"Authorization": f"Bearer {_login(client).json()['token']}"}
    r = client.post(
        "/api/auth/login",
        json={
            "username": "supervisor",
            "password": DEMO_PASSWORD,
            "device_id": "d-sup",
            "device_name": "office",
        },
    )
    sup = {"Authorization": f"Bearer {r.json()['token']}"}
    listed = {d["id"] for d in client.get("/api/devices", headers=sup).json()["devices"]}
    assert {"d-1", "d-sup"} <= listed
    # an inspector sees and revokes only their own devices: another's is not found
    mine = client.get("/api/devices", headers=phone).json()["devices"]
    assert [d["id"] for d in mine] == ["d-1"]
    assert client.post("/api/devices/d-sup/revoke", headers=phone).status_code == 404
    assert client.post("/api/devices/d-1/revoke", headers=sup).json()["revoked"] is True
    assert _code(client.post("/api/sync", json=SYNC, headers=phone)) == (401, "token_revoked")
