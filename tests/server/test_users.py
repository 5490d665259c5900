"""`xunjian user add|passwd|list|disable|enable` through services/users.py, on SQLite and
PostgreSQL: every change audited, a disabled account shut out of the API and the web and its
phones signed out, a new password ending web sessions."""

from __future__ import annotations

from sqlmodel import select

from server.cli import main
from server.db import session_scope
from server.models import AuditLog, Device, User
from server.services.auth import verify_password
from tests.logins import DEMO_PASSWORD, login_body, web_login

SYNC = {"protocol": 1, "device_id": "d-1", "cursor": None, "ops": []}


def _cli(db_url: str, *args: str) -> int:
    return main(["--database-url", db_url, "user", *args])


def _audit(engine, action: str) -> list[AuditLog]:
    with session_scope(engine) as s:
        return list(s.exec(select(AuditLog).where(AuditLog.action == action)).all())


def _user(engine, username: str) -> User:
    with session_scope(engine) as s:
        return s.exec(select(User).where(User.username == username)).one()


def test_disabled_user_is_shut_out_everywhere(client, demo, engine, db_url, login, capsys):
    phone = login("inspector", "d-1")
    assert client.post("/api/sync", headers=phone, json=SYNC).status_code == 200
    assert _cli(db_url, "disable", "inspector") == 0
    assert "已停用 inspector，注销了 1 台设备" in capsys.readouterr().out
    r = client.post("/api/sync", headers=phone, json=SYNC)
    assert r.status_code == 401 and r.json()["error"]["code"] == "token_revoked"
    r = client.post("/api/auth/login", json=login_body("inspector", "d-1"))
    assert r.status_code == 401 and r.json()["error"]["code"] == "bad_credentials"
    with session_scope(engine) as s:
        assert s.get(Device, "d-1").revoked_at is not None
    (entry,) = _audit(engine, "user.disable")
    assert entry.detail == {"via": "cli", "devices_signed_out": 1}
    assert _cli(db_url, "disable", "inspector") == 0  # again: nothing changes
    assert len(_audit(engine, "user.disable")) == 1
    assert _cli(db_url, "enable", "inspector") == 0
    assert client.post("/api/sync", headers=phone, json=SYNC).status_code == 401  # still out
    assert login("inspector", "d-1")  # a new login works
    assert [e.action for e in _audit(engine, "user.enable")] == ["user.enable"]


def test_disabled_supervisor_loses_the_web(client, demo, db_url):
    assert web_login(client).status_code == 303
    assert client.get("/review", follow_redirects=False).status_code == 200
    assert _cli(db_url, "disable", "supervisor") == 0
    assert client.get("/review", follow_redirects=False).status_code == 303
    assert web_login(client).status_code == 401


def test_passwd_ends_web_sessions_and_optionally_phones(client, demo, engine, db_url, login):
    phone = login("supervisor", "d-sup")
    web_login(client)
    assert _cli(db_url, "passwd", "supervisor", "--password", "short") == 1
    assert _cli(db_url, "passwd", "supervisor", "--password", "a-new-pass-2027") == 0
    assert verify_password(_user(engine, "supervisor").password_hash, "a-new-pass-2027")
    assert client.get("/review", follow_redirects=False).status_code == 303  # session over
    assert web_login(client, password=DEMO_PASSWORD).status_code == 401
    assert web_login(client, password="a-new-pass-2027").status_code == 303
    r = client.post("/api/sync", headers=phone, json={**SYNC, "device_id": "d-sup"})
    assert r.status_code == 200  # the phone stays logged in ...
    assert _cli(db_url, "passwd", "supervisor", "--sign-out-devices") == 0
    r = client.post("/api/sync", headers=phone, json={**SYNC, "device_id": "d-sup"})
    assert r.status_code == 401  # ... unless asked
    entries = _audit(engine, "user.passwd")
    assert [e.detail["devices_signed_out"] for e in entries] == [0, 1]


def test_passwd_prints_a_generated_password(demo, engine, db_url, capsys):
    assert _cli(db_url, "passwd", "inspector2") == 0
    out = capsys.readouterr().out
    password = out.strip().rsplit("：", 1)[1]
    assert len(password) >= 8
    assert verify_password(_user(engine, "inspector2").password_hash, password)
    assert _cli(db_url, "passwd", "nobody") == 1
    assert "用户 nobody 不存在" in capsys.readouterr().err


def test_list_in_either_language(demo, db_url, login, capsys):
    login("inspector", "d-1")
    assert _cli(db_url, "disable", "inspector2") == 0
    capsys.readouterr()
    assert _cli(db_url, "list") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:4] == ["用户名", "姓名", "角色", "区域"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert set(rows) == {"admin", "supervisor", "inspector", "inspector2"}
    assert "巡检员" in rows["inspector"] and "启用" in rows["inspector"]
    assert "已停用" in rows["inspector2"]
    assert main(["--lang", "en", "--database-url", db_url, "user", "list"]) == 0
    english = capsys.readouterr().out
    assert english.startswith("Username") and "disabled" in english and "Inspector" in english


def test_add_refuses_bad_input_naming_it(demo, db_url, capsys):
    assert _cli(db_url, "add", "Wang Jian", "--name", "王建", "--area", "610424") == 1
    assert "用户名“Wang Jian”不合规" in capsys.readouterr().err
    assert _cli(db_url, "add", "wang", "--name", "王建", "--area", "999") == 1
    assert "区域代码 999 不存在" in capsys.readouterr().err
    args = ["add", "wang", "--name", "王建", "--area", "610424", "--lang", "en"]
    assert _cli(db_url, *args) == 0
    assert _cli(db_url, *args) == 1
    assert "用户 wang 已存在" in capsys.readouterr().err
