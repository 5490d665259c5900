"""Logging in, the one way every test does it: a phone through /api/auth/login, a browser
through the /login form (with its CSRF token). The fixtures `login` and `office` in
tests/conftest.py wrap these for the in-process client; `LiveServer.login` is the same for a
real server."""

from __future__ import annotations

import re

DEMO_PASSWORD = "demo-pass-2020"  # every demo account's password in the tests


# device id -> the last token it was given, as the phone itself keeps it (`device_proof`):
# tests that log two users in on one device id are one shared phone
_HELD: dict[str, str] = {}


def login_body(username: str, device: str, password: str = DEMO_PASSWORD) -> dict:
    body = {"username": username, "password": password, "device_id": device, "device_name": ""}
    if device in _HELD:
        body["device_proof"] = _HELD[device]
    return body


def held(device: str, token: str) -> str:
    """Note the token a device was given (the next login on it shows it); returns it."""
    _HELD[device] = token
    return token


def api_login(
    client, username: str = "inspector", device: str = "d-1", password: str = DEMO_PASSWORD
) -> dict:
    """Log a phone in; the Authorization header its later requests carry."""
    r = client.post("/api/auth/login", json=login_body(username, device, password))
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {held(device, r.json()['token'])}"}


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, "no CSRF token on the page"
    return m.group(1)


def web_login(
    client, username: str = "supervisor", password: str = DEMO_PASSWORD, next_url: str = "/review"
):
    """Log in through the form like a browser; returns the form's answer (303 when it
    worked)."""
    page = client.get("/login", params={"next": next_url})
    assert page.status_code == 200
    form = {"csrf": csrf_of(page.text), "username": username, "password": password}
    return client.post("/login", data={**form, "next": next_url}, follow_redirects=False)
