"""Password hashing (argon2) and token hashing."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import os
import secrets
import weakref
from collections.abc import Callable

import anyio
import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine
from sqlmodel import select

from server.db import session_scope
from server.models import User

_hasher = PasswordHasher()
# One argon2 verify is ~0.1 s of CPU and 64 MiB; more at once than there are cores only
# makes each slower (and 200 at once would want 12 GiB).
HASHES_AT_ONCE = os.cpu_count() or 1
_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = (
    weakref.WeakKeyDictionary()
)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def dummy_hash() -> str:
    """A hash to verify against when the user is unknown (same cost as a real one)."""
    return _hasher.hash(secrets.token_urlsafe(16))


async def verified_hash(
    engine: Engine, username: str, password: str, gate: Callable[[], None] | None = None
) -> str | None:
    """The account's stored hash when `password` matches it, else None; the writer then
    issues the login only if the account still holds that hash (`still_holds`).

    Why outside any transaction: the verify costs ~0.1 s of CPU, and holding SQLite's write
    lock (or a pooled connection) through it made a burst of 200 logins queue behind one
    another's hashing until they failed with "database is locked". The hash is read in a
    short read transaction, then verified on threads of its own (HASHES_AT_ONCE), so
    waiting logins hold neither a connection nor a thread of the shared pool. An unknown
    user costs one verify too: answering it faster would tell who has an account.

    `gate` (the login counters' check) runs again just before the verify, on its thread: a
    crowd of guesses that all passed the first check while waiting their turn is stopped
    there, so no more than HASHES_AT_ONCE run past a full counter."""

    def read() -> str | None:
        with session_scope(engine) as session:
            return session.exec(select(User.password_hash).where(User.username == username)).first()

    stored = await anyio.to_thread.run_sync(read)
    ok = await anyio.to_thread.run_sync(_verify, stored, password, gate, limiter=_hash_limiter())
    return stored if ok and stored else None


def _verify(stored: str | None, password: str, gate: Callable[[], None] | None) -> bool:
    if gate is not None:
        gate()
    return verify_password(stored or dummy_hash(), password)


def still_holds(user: User | None, verified: str | None) -> bool:
    """Inside the write transaction: the account is active and its password was not changed
    since `verified_hash` checked it."""
    return user is not None and user.active and bool(verified) and user.password_hash == verified


def _hash_limiter() -> anyio.CapacityLimiter:
    """Per event loop (tests run several loops; a limiter belongs to one)."""
    loop = asyncio.get_running_loop()
    limiter = _limiters.get(loop)
    if limiter is None:
        limiter = _limiters[loop] = anyio.CapacityLimiter(HASHES_AT_ONCE)
    return limiter


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """Tokens are random and long, so a plain SHA-256 is enough to store them safely."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_password() -> str:
    return secrets.token_urlsafe(9)
