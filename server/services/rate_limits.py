"""Slowing password guessing: failed logins counted per account and per address.

Decisions:
- Only failures count. An office whose thirty inspectors log in through one address on a
  Monday morning is never refused; a script guessing passwords soon is.
- The counters live in the database (`rate_counter`), upserted in their own short
  transaction, so several worker processes count one total and a refused login's
  rollback does not undo its failure. `guarded` is async and runs each database call in
  the thread pool; the others block and belong in the thread pool.
- A refused attempt checks no password at all: it costs the server nothing, and it tells
  the guesser nothing about the password either.
- A success clears the account's counter (not the address's: one correct password must not
  reset a guesser's address).
The sync limit is different and per process: see `server/ratelimit_sync.py`.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import Engine, case, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from starlette.concurrency import run_in_threadpool

from server.db import session_scope
from server.errors import AppError
from server.models import RateCounter

WINDOW_SECONDS = 15 * 60
T = TypeVar("T")


@dataclass(frozen=True)
class LoginLimits:
    per_account: int
    per_address: int


def of_settings(settings) -> LoginLimits:
    return LoginLimits(settings.login_failures_per_account, settings.login_failures_per_address)


async def guarded(
    engine: Engine,
    limits: LoginLimits,
    account: str,
    address: str,
    attempt: Callable[[], Awaitable[T]],
    failed_when: Callable[[T | None, BaseException | None], bool],
) -> T:
    """Run one login `attempt` behind the counters: refused at once when either is full;
    a failure (as `failed_when` judges the result or the exception) is counted."""
    await run_in_threadpool(check, engine, limits, account, address)
    try:
        result = await attempt()
    except BaseException as exc:
        if failed_when(None, exc):
            await run_in_threadpool(failed, engine, account, address)
        raise
    if failed_when(result, None):
        await run_in_threadpool(failed, engine, account, address)
    else:
        await run_in_threadpool(succeeded, engine, account)
    return result


def keys(account: str, address: str) -> list[tuple[str, str]]:
    """(key, kind) pairs; names are compared as the login compares them."""
    return [
        (f"account:{account[:64]}", "account"),
        (f"address:{address[:64]}", "address"),
    ]


def too_many(retry_after: int) -> AppError:
    minutes = max(1, -(-retry_after // 60))
    return AppError.protocol(
        "too_many_logins",
        status=429,
        headers={"Retry-After": str(retry_after)},
        extra={"retry_after": retry_after},
        minutes=minutes,
    )


def check(engine: Engine, limits: LoginLimits, account: str, address: str) -> None:
    """Raise 429 `too_many_logins` (with Retry-After) when either counter is full."""
    now = int(time.time())
    bound = {"account": limits.per_account, "address": limits.per_address}
    pairs = keys(account, address)
    with session_scope(engine) as session:
        rows = session.exec(
            select(RateCounter).where(
                RateCounter.key.in_([k for k, _ in pairs])  # type: ignore[attr-defined]
            )
        ).all()
        by_key = {r.key: (r.window_start, r.count) for r in rows}
    waits = []
    for key, kind in pairs:
        start, count = by_key.get(key, (0, 0))
        if now - start < WINDOW_SECONDS and count >= bound[kind]:
            waits.append(start + WINDOW_SECONDS - now)
    if waits:
        raise too_many(max(1, max(waits)))


def failed(engine: Engine, account: str, address: str) -> None:
    """Count one failure against both keys, in a transaction of its own."""
    now = int(time.time())
    with session_scope(engine, write=True) as session:
        dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
        for key, _ in keys(account, address):
            ins = dialect.insert(RateCounter).values(key=key, window_start=now, count=1)
            expired = ins.excluded.window_start - RateCounter.window_start >= WINDOW_SECONDS
            session.exec(
                ins.on_conflict_do_update(
                    index_elements=["key"],
                    set_={
                        "count": case((expired, 1), else_=RateCounter.count + 1),
                        "window_start": case(
                            (expired, ins.excluded.window_start), else_=RateCounter.window_start
                        ),
                    },
                )
            )


def succeeded(engine: Engine, account: str) -> None:
    with session_scope(engine, write=True) as session:
        session.exec(delete(RateCounter).where(col(RateCounter.key) == keys(account, "")[0][0]))
