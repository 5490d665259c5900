"""Device logins, rotations and revocations leave an audit trail."""

from sqlmodel import Session, select

from server.models import AuditLog
from tests.logins import DEMO_PASSWORD


def test_login_rotate_logout_are_audited(client, demo, engine):
    r = client.post(
        "/api/auth/login",
        json={
            "username": "inspector",
            "password": DEMO_PASSWORD,
            "device_id": "d-audit",
            "device_name": "手机",
        },
    )
    assert r.status_code == 200
    auth = {"Authorization": "Bearer " + r.json()["token"]}
    r = client.post("/api/auth/rotate", json={}, headers=auth)
    assert r.status_code == 200
    auth = {"Authorization": "Bearer " + r.json()["token"]}
    assert client.post("/api/auth/logout", json={}, headers=auth).status_code == 200
    bad = client.post(
        "/api/auth/login",
        json={"username": "inspector", "password": "wrong", "device_id": "d-audit"},
    )
    assert bad.status_code == 401
    with Session(engine) as s:
        rows = s.exec(
            select(AuditLog).where(AuditLog.device_id == "d-audit").order_by(AuditLog.id)
        ).all()
    assert [r.action for r in rows] == ["auth.login", "auth.rotate", "auth.revoke"]
    assert all(r.user_id is not None and r.target_id == "d-audit" for r in rows)
