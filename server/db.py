"""Engine and sessions. SQLite gets WAL and foreign keys on every connection.

How a crowd waits (found by bench/sync_load.py, 200 phones at once): every database call
runs on a thread of anyio's pool, so a process never has more than THREADS sessions at
once, and its connection pool holds as many (and POOL_SPARE more for login's own threads):
a request waits for a thread, in order and without a deadline, instead of for a pooled
connection with one (503 after 30 s). On SQLite the writers of one process queue on a
lock of their own before BEGIN IMMEDIATE: SQLite's busy handler polls, sleeping up to
100 ms between tries, so its write lock sat idle between holders and an unlucky writer
could lose every try for the whole busy timeout.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, create_engine

from server import json_codec
from server.settings import Settings

CHUNK = 500  # values per IN (...) list
THREADS = 16  # anyio's thread pool per process (app lifespan); its default is 40
POOL_SPARE = 4  # past THREADS: login's own hash threads (4 PostgreSQL workers: 4 x 20)
WAIT_SECONDS = 30  # for a connection or SQLite's writer, then 503 server_busy


def make_engine(url: str, wait: float = WAIT_SECONDS, **kwargs) -> Engine:
    kwargs.setdefault("pool_size", THREADS)
    # JSON columns (records, answers, verdicts, follow-ups) through orjson, both ways
    kwargs.setdefault("json_serializer", json_codec.dumps)
    kwargs.setdefault("json_deserializer", json_codec.loads)
    kwargs.setdefault("max_overflow", POOL_SPARE)
    kwargs.setdefault("pool_timeout", wait)
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": wait})
        if ":memory:" in url:
            raise SystemExit("in-memory SQLite is not supported; use a file path")
        engine = create_engine(url, **kwargs)
        writer = threading.Lock()

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            # Python's sqlite3 opens transactions lazily; we issue BEGIN ourselves so that
            # BEGIN IMMEDIATE is possible for writers that must serialise.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute(f"PRAGMA busy_timeout={int(wait * 1000)}")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
            if mode == "IMMEDIATE":
                if not writer.acquire(timeout=wait):
                    raise OperationalError(
                        "BEGIN IMMEDIATE", {}, sqlite3.OperationalError("database is locked")
                    )
                conn.info["writer"] = True
            try:
                conn.exec_driver_sql(f"BEGIN {mode}")
            except BaseException:
                _let_go(None, conn)
                raise

        @event.listens_for(engine, "checkin")
        def _let_go(_dbapi_conn, record) -> None:
            """When the connection is back in the pool: its COMMIT or ROLLBACK is done (the
            "commit" event fires before it)."""
            if record.info.pop("writer", False):
                writer.release()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def engine_from_settings(settings: Settings) -> Engine:
    return make_engine(settings.database_url, settings.db_wait_seconds)


@contextmanager
def session_scope(engine: Engine, *, write: bool = False) -> Iterator[Session]:
    """A session that commits on success. `write=True` takes SQLite's write lock up front,
    which avoids the deadlock-prone upgrade from a read to a write transaction."""
    bind = engine
    if write and engine.dialect.name == "sqlite":
        bind = engine.execution_options(sqlite_begin="IMMEDIATE")
    with Session(bind, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def chunked(values: Iterable[Any]) -> Iterator[list[Any]]:
    """The values, sorted, in slices of CHUNK for `IN (...)` lists. Why slices: SQLite
    bounds the variables of one statement, and PostgreSQL's driver prepares a short query
    much faster than one with thousands of parameters. Sorted, so one set of values always
    gives the same statements."""
    todo = sorted(values)
    for start in range(0, len(todo), CHUNK):
        yield todo[start : start + CHUNK]


MAX_DB_INT = 2**31 - 1  # ids are INTEGER columns (32-bit on PostgreSQL)


def db_int(raw: str | int | None) -> int | None:
    """`raw` as an integer an id column can hold (|n| <= 2**31 - 1), else None: ids and
    offsets come from URLs, and a 20-digit one (or, on PostgreSQL, any past 32 bits) used
    to reach the driver and answer 500."""
    if isinstance(raw, int):  # a route's `{x:int}` convertor already parsed it
        value = raw
    elif raw is None or len(raw) > 20:
        return None
    else:
        try:
            value = int(raw)
        except ValueError:
            return None
    return value if abs(value) <= MAX_DB_INT else None
