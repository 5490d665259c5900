"""Hardening (issue 11, part 5) and hostile requests (part 4): security headers on every
page, request size limits, gzip bombs, path traversal, wrong types, login and sync rate
limits, cookie flags."""

from __future__ import annotations

import dataclasses
import gzip
import re

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from server.app import create_app
from server.middleware import FORM_BYTES, JSON_BYTES
from server.routes import route_table
from tests.hostile.test_event_loop import _path
from tests.logins import DEMO_PASSWORD, api_login, csrf_of, login_body, web_login
from tests.server.test_review_pages import PHOTO_SHA

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)


def _assert_headers(r, where: str) -> None:
    csp = r.headers.get("content-security-policy", "")
    script = re.search(r"script-src ([^;]*)", csp)
    assert script and "'self'" in script.group(1), (where, csp)
    assert "unsafe-inline" not in script.group(1) and "unsafe-eval" not in csp, where
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp, where
    assert r.headers.get("x-content-type-options") == "nosniff", where


def test_every_page_has_the_csp_and_no_inline_script(client, app, conflict, phones):
    """Walks the route table (a page added later is walked too) as the admin, who may open
    every office page; the field app's files and the JSON API answer with the headers too."""
    params = {"conflict_id": str(conflict["id"]), "device_id": "d-2", "sha256": PHOTO_SHA}
    params["path"] = "index.html"
    assert web_login(client, "admin").status_code == 303
    pages = 0
    for route in route_table(app.state.settings):
        if not isinstance(route, Route) or "GET" not in (route.methods or set()):
            continue
        path = _path(route, params)
        r = client.get(path, follow_redirects=False, headers=phones[0] if "/api/" in path else {})
        assert r.status_code < 500, (path, r.text[:300])
        _assert_headers(r, path)
        if r.headers.get("content-type", "").startswith("text/html"):
            pages += 1
            assert not INLINE_SCRIPT.search(r.text), f"inline <script> on {path}"
            assert not HANDLER.search(r.text), f"inline event handler on {path}"
    for path in ("/app/", "/app/index.html", "/app/sw.js", "/nowhere", "/api/nowhere"):
        r = client.get(path)
        _assert_headers(r, path)
        if "html" in r.headers.get("content-type", ""):
            assert not INLINE_SCRIPT.search(r.text) and not HANDLER.search(r.text), path
    assert pages >= 10


def _post_too_big(client, path: str, size: int, **headers):
    kind = "application/json" if path.startswith("/api/") else "application/x-www-form-urlencoded"
    return client.post(path, content=b"x" * size, headers={"Content-Type": kind, **headers})


def test_oversized_bodies_are_413_everywhere(client, demo, login):
    h = login()
    for path in ("/api/sync", "/api/auth/login", "/api/conflicts/1/resolve"):
        r = _post_too_big(client, path, JSON_BYTES + 1, **h)
        assert r.status_code == 413, path
        assert r.json()["error"]["code"] == "body_too_large"
    for path in ("/login", "/logout", "/lang", "/review/devices/d-1/revoke"):
        r = _post_too_big(client, path, FORM_BYTES + 1)
        assert r.status_code == 413, path
        assert "text/html" in r.headers["content-type"]


def test_a_streamed_body_without_length_is_cut_at_the_limit(client, demo, login):
    h = login()

    def chunks():
        for _ in range(20):
            yield b"x" * (1024 * 1024)

    r = client.post("/api/sync", content=chunks(), headers=h)
    assert r.status_code == 413
    assert r.json()["error"]["max_bytes"] == JSON_BYTES


def test_a_gzip_bomb_is_refused_not_inflated(client, demo, login):
    h = login()
    bomb = gzip.compress(b"[" + b" " * (64 * 1024 * 1024) + b"]", 9)
    assert len(bomb) < 200_000
    r = client.post("/api/sync", content=bomb, headers={**h, "Content-Encoding": "gzip"})
    assert r.status_code == 413 and r.json()["error"]["code"] == "body_too_large"
    r = client.post(
        "/api/sync", content=b"\x1f\x8bnot gzip", headers={**h, "Content-Encoding": "gzip"}
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_gzip"
    r = client.post("/api/sync", content=b"{}", headers={**h, "Content-Encoding": "br"})
    assert r.status_code == 400


@pytest.mark.parametrize(
    "path",
    [
        "/api/blobs/..%2F..%2F..%2Fetc%2Fpasswd",
        "/api/blobs/..%2f..%2fsecret_key/status",
        "/api/blobs/" + "a" * 63 + "%2F",
        "/api/blobs/" + "A" * 64,
        "/app/..%2Fserver%2Fsettings.py",
        "/app/%2e%2e/pyproject.toml",
        "/app/js/../../server/settings.py",
        "/review/photos/..%2F..%2Fsecret_key",
    ],
)
def test_path_traversal_in_names_reaches_no_file(client, demo, login, settings, path):
    h = login()
    (settings.data_path / "secret_key").write_text("do not serve")
    r = client.get(path, headers=h)
    assert r.status_code in (400, 401, 404), (path, r.status_code)
    assert b"do not serve" not in r.content and b"ENV_PREFIX" not in r.content


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/auth/login", {"username": 5, "password": "x", "device_id": "d"}, "username"),
        ("/api/auth/login", {"username": "a", "password": ["x"], "device_id": "d"}, "password"),
        ("/api/auth/login", ["not", "an", "object"], "body"),
        ("/api/sync", {"protocol": "1", "device_id": "d-1", "cursor": None, "ops": []}, None),
        ("/api/sync", {"protocol": 1, "device_id": "d-1", "cursor": 7, "ops": []}, "cursor"),
        ("/api/sync", {"protocol": 1, "device_id": "d-1", "cursor": None, "ops": "x"}, "ops"),
        ("/api/sync", {"protocol": 1, "device_id": "d-1", "cursor": None, "ops": [5]}, "ops[0]"),
        ("/api/conflicts/1/resolve", {"take": 5}, "take"),
        ("/api/conflicts/1/resolve", {"choices": "x"}, "choices"),
    ],
)
def test_wrong_types_are_400_naming_the_field(client, demo, login, path, body, field):
    h = login("supervisor", "d-sup") if "conflicts" in path else login()
    r = client.post(path, json=body, headers=h)
    assert r.status_code in (400, 404), r.text
    err = r.json()["error"]
    if r.status_code == 400 and field:
        assert err.get("field") == field, err


def _app_with(settings, **over):
    return create_app(dataclasses.replace(settings, **over))


def test_login_guessing_is_slowed_per_account_on_api_and_form(client, demo, settings):
    wrong = login_body("inspector", "d-1", "wrong-password")
    for _ in range(settings.login_failures_per_account):
        assert client.post("/api/auth/login", json=wrong).status_code == 401
    # now even the right password waits, and says for how long
    r = client.post("/api/auth/login", json=login_body("inspector", "d-1"))
    assert r.status_code == 429
    err = r.json()["error"]
    assert err["code"] == "too_many_logins" and "分钟" in err["message_zh"]
    assert 0 < int(r.headers["retry-after"]) <= 15 * 60
    # a colleague's account is not locked by it
    assert client.post("/api/auth/login", json=login_body("inspector2", "d-2")).status_code == 200
    # the web form counts into the same account counter (supervisor's, here)
    for _ in range(settings.login_failures_per_account):
        assert web_login(client, "supervisor", "wrong").status_code == 401
    r = web_login(client, "supervisor", DEMO_PASSWORD)
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    assert "尝试" in r.text or "次数太多" in r.text


def test_login_counters_are_shared_by_worker_processes_and_per_address(demo, settings):
    """Two apps on one database stand for two uvicorn workers: one count, in the database."""
    limited = dataclasses.replace(settings, login_failures_per_address=3)
    with TestClient(create_app(limited)) as one, TestClient(create_app(limited)) as two:
        for c, user in ((one, "nobody1"), (two, "nobody2"), (one, "nobody3")):
            assert c.post("/api/auth/login", json=login_body(user, "d-1")).status_code == 401
        r = two.post("/api/auth/login", json=login_body("inspector", "d-1"))
        assert r.status_code == 429 and r.json()["error"]["code"] == "too_many_logins"


def test_a_correct_password_clears_the_accounts_count(client, demo, settings):
    wrong = login_body("inspector", "d-1", "wrong-password")
    for _ in range(settings.login_failures_per_account - 1):
        assert client.post("/api/auth/login", json=wrong).status_code == 401
    assert client.post("/api/auth/login", json=login_body("inspector", "d-1")).status_code == 200
    for _ in range(settings.login_failures_per_account - 1):
        assert client.post("/api/auth/login", json=wrong).status_code == 401
    assert client.post("/api/auth/login", json=login_body("inspector", "d-1")).status_code == 200


def test_sync_is_rate_limited_per_device(demo, settings):
    with TestClient(_app_with(settings, sync_per_minute=2)) as c:
        h = api_login(c)
        body = {"protocol": 1, "device_id": "d-1", "cursor": None, "ops": []}
        codes = [c.post("/api/sync", json=body, headers=h).status_code for _ in range(2)]
        assert codes == [200, 200]
        r = c.post("/api/sync", json=body, headers=h)
        assert r.status_code == 429 and r.json()["error"]["code"] == "too_many_requests"
        assert 0 < int(r.headers["retry-after"]) <= 60


def test_cookies_are_httponly_and_secure_behind_a_tls_proxy(demo, settings):
    for tls, secure in ((0, False), (1, True)):
        with TestClient(_app_with(settings, tls_proxy=tls)) as c:
            page = c.get("/login")
            form = {"csrf": csrf_of(page.text), "username": "supervisor", "password": DEMO_PASSWORD}
            r = c.post("/login", data=form, follow_redirects=False)
            cookie = r.headers["set-cookie"].lower()
            assert "httponly" in cookie and "samesite=lax" in cookie
            assert ("secure" in cookie) is secure
            assert ("strict-transport-security" in r.headers) is secure
