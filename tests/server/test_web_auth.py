"""Web login for supervisors: signed session cookie, CSRF on every form, polite refusal of
inspectors, no hint which credential was wrong, audit entries for login and logout."""

from __future__ import annotations

import time

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from server.db import session_scope
from server.models import AuditLog, User
from server.services import web_session
from server.services.auth import hash_password
from tests.logins import DEMO_PASSWORD, csrf_of, web_login

SECRET = "test-secret-key-not-a-placeholder"  # tests/conftest.py's settings


def audit_actions(engine) -> list[tuple[str, int | None]]:
    with session_scope(engine) as s:
        rows = s.exec(select(AuditLog).order_by(AuditLog.id)).all()
        return [(r.action, r.user_id) for r in rows if r.action.startswith(("web.", "review."))]


def user_id(engine, username: str) -> int:
    with session_scope(engine) as s:
        return s.exec(select(User.id).where(User.username == username)).one()


def test_review_needs_login_and_comes_back_after(client, demo, engine):
    r = client.get("/review/conflicts?status=all", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=/review/conflicts%3Fstatus%3Dall"
    r = web_login(client, next_url="/review/conflicts?status=all")
    assert r.status_code == 303 and r.headers["location"] == "/review/conflicts?status=all"
    page = client.get("/review")
    assert page.status_code == 200
    assert "马莉" in page.text and "退出登录" in page.text  # who is logged in, and logout
    assert audit_actions(engine) == [("web.login", user_id(engine, "supervisor"))]


def test_session_cookie_is_httponly_lax_and_short_lived(client, demo):
    r = web_login(client)
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(web_session.COOKIE + "=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    assert f"Max-Age={12 * 3600}" in cookie
    value = client.cookies[web_session.COOKIE]
    session = web_session.decode(SECRET, value)
    assert session is not None and session.user_id is not None


def test_login_gets_a_fresh_session(client, demo):
    client.get("/login")
    before = web_session.decode(SECRET, client.cookies[web_session.COOKIE])
    assert before is not None and before.user_id is None
    web_login(client)
    after = web_session.decode(SECRET, client.cookies[web_session.COOKIE])
    assert after is not None and after.nonce != before.nonce


@pytest.mark.parametrize(
    ("username", "password"), [("supervisor", "wrong-password"), ("nobody", DEMO_PASSWORD)]
)
def test_bad_credentials_do_not_say_which_part(client, demo, username, password):
    r = web_login(client, username, password)
    assert r.status_code == 401
    assert "用户名或密码不正确" in r.text
    assert "不存在" not in r.text
    english = client.post("/lang", data={"lang": "en"}, follow_redirects=False)
    assert english.status_code == 303
    r = web_login(client, username, password)
    assert "Wrong username or password" in r.text and "用户名" not in r.text
    assert "not exist" not in r.text
    assert client.get("/review", follow_redirects=False).status_code == 303


def test_disabled_account_cannot_log_in(client, demo, engine):
    with session_scope(engine, write=True) as s:
        u = s.exec(select(User).where(User.username == "supervisor")).one()
        u.active = False
        s.add(u)
    r = web_login(client)
    assert r.status_code == 401 and "用户名或密码不正确" in r.text


def test_inspector_is_sent_to_the_phone_app(client, demo, engine):
    r = web_login(client, "inspector")
    assert r.status_code == 403
    assert 'href="/app/"' in r.text and "巡检员请在手机上打开" in r.text
    assert client.get("/review", follow_redirects=False).status_code == 303
    assert audit_actions(engine) == []


def test_admin_may_log_in(client, demo):
    assert web_login(client, "admin").status_code == 303
    assert "畅大伟" in client.get("/review").text


def test_login_without_csrf_is_refused_and_offered_again(client, demo):
    client.get("/login")
    r = client.post(
        "/login",
        data={"username": "supervisor", "password": DEMO_PASSWORD, "csrf": "forged"},
        follow_redirects=False,
    )
    assert r.status_code == 403 and "页面已过期" in r.text
    assert client.get("/review", follow_redirects=False).status_code == 303
    # the page it answered with carries a working token
    r = client.post(
        "/login",
        data={"username": "supervisor", "password": DEMO_PASSWORD, "csrf": csrf_of(r.text)},
        follow_redirects=False,
    )
    assert r.status_code == 303


def test_csrf_token_belongs_to_its_session(app, client, demo):
    web_login(client)
    token = csrf_of(client.get("/review").text)
    with TestClient(app) as other:
        web_login(other, "admin")
        r = other.post("/logout", data={"csrf": token}, follow_redirects=False)
        assert r.status_code == 403
        assert other.get("/review", follow_redirects=False).status_code == 200


def test_logout_needs_csrf_then_ends_the_session(client, demo, engine):
    web_login(client)
    r = client.post("/logout", data={}, follow_redirects=False)
    assert r.status_code == 403
    assert "表单已过期" in r.text and "Traceback" not in r.text  # the one error page
    token = csrf_of(client.get("/review").text)
    r = client.post("/logout", data={"csrf": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?bye=1"
    assert web_session.COOKIE not in client.cookies
    assert client.get("/review", follow_redirects=False).status_code == 303
    sup = user_id(engine, "supervisor")
    assert audit_actions(engine) == [("web.login", sup), ("web.logout", sup)]
    assert "您已退出登录" in client.get("/login?bye=1").text


def _with_cookie(client, value: str):
    client.cookies.set(web_session.COOKIE, value)
    return client.get("/review", follow_redirects=False)


def test_forged_tampered_and_expired_cookies_are_refused(client, demo, engine):
    sup = user_id(engine, "supervisor")
    with session_scope(engine) as s:
        user = s.get(User, sup)
    good = web_session.new_session(user)
    assert _with_cookie(client, web_session.encode(SECRET, good)).status_code == 200
    assert _with_cookie(client, web_session.encode("another-secret", good)).status_code == 303
    # someone else's user id under this cookie's signature
    mac = web_session.encode(SECRET, good).split(".")[1]
    other = web_session.WebSession(sup + 1, good.nonce, good.issued, good.pw)
    body = web_session.encode(SECRET, other).split(".")[0]
    assert _with_cookie(client, f"{body}.{mac}").status_code == 303
    assert _with_cookie(client, "garbage").status_code == 303
    old = web_session.WebSession(sup, good.nonce, int(time.time()) - 13 * 3600, good.pw)
    assert _with_cookie(client, web_session.encode(SECRET, old)).status_code == 303


def test_password_change_ends_web_sessions(client, demo, engine):
    web_login(client)
    assert client.get("/review", follow_redirects=False).status_code == 200
    with session_scope(engine, write=True) as s:
        u = s.exec(select(User).where(User.username == "supervisor")).one()
        u.password_hash = hash_password("a-new-password-2027")
        s.add(u)
    assert client.get("/review", follow_redirects=False).status_code == 303


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/review/devices", "/review/devices"),
        ("//evil.example/x", "/review"),
        ("https://evil.example/", "/review"),
        ("/\\evil.example", "/review"),
        ("javascript:alert(1)", "/review"),
        ("", "/review"),
    ],
)
def test_next_never_leaves_the_site(target, expected):
    assert web_session.safe_next(target) == expected


def test_login_page_is_labelled_and_in_chinese(client, demo):
    html = client.get("/login").text
    assert '<html lang="zh-CN">' in html
    for control in ("username", "password"):
        assert f'<label for="{control}">' in html and f'id="{control}"' in html


def test_home_page_shows_who_is_logged_in(client, demo):
    assert "退出登录" not in client.get("/").text
    assert web_login(client).status_code == 303
    home = client.get("/").text
    assert "马莉" in home and "退出登录" in home
