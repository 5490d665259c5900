"""A slow login that a phone gave up on and sent again must not sign the phone out.

Seen in bench/sync_load.py on PostgreSQL at load 25: 69 logins went unanswered within the
client's 60 s and were sent again; for 42 phones the retry was answered first, then the
first attempt finished and retired the retry's token, so those phones were refused with
`token_revoked` holding 1,260 unsent ops."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from server.db import session_scope
from server.errors import AppError
from server.models import User
from server.services import devices


def _login(engine, began: datetime | None) -> devices.Issued:
    with session_scope(engine, write=True) as s:
        held = s.exec(select(User.password_hash).where(User.username == "inspector")).one()
        return devices.login(s, "inspector", held, "d-slow", "", 60, began=began)


def _works(client, token: str) -> int:
    return client.get("/api/devices", headers={"Authorization": f"Bearer {token}"}).status_code


def test_a_login_older_than_the_devices_token_yields(client, engine, demo):
    first_began = datetime.now(UTC) - timedelta(seconds=5)  # the slow first attempt
    retry = _login(engine, datetime.now(UTC))
    with pytest.raises(AppError) as refused:
        _login(engine, first_began)
    assert (refused.value.status, refused.value.code) == (409, "login_superseded")
    assert _works(client, retry.token) == 200


def test_a_login_after_the_token_was_issued_replaces_it(client, engine, demo):
    old = _login(engine, datetime.now(UTC))
    new = _login(engine, datetime.now(UTC) + timedelta(seconds=1))
    assert _works(client, new.token) == 200
    assert _works(client, old.token) == 401
