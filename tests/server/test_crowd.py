"""How a crowd waits for the database (server/db.py): for a thread, never for a pooled
connection; and on SQLite, writers of one process in turn on a lock that always lets go."""

from __future__ import annotations

import sqlite3
import threading

import anyio.to_thread
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from starlette.testclient import TestClient

from server.app import create_app
from server.db import make_engine, session_scope


def test_threads_never_outnumber_pooled_connections(settings):
    """Before, anyio's 40 threads shared 15 connections: under 200 phones the threads past
    15 waited for a connection and answered 503 after 30 s (bench/sync_load.py)."""
    app = create_app(settings)
    with TestClient(app) as client:
        threads = client.portal.call(
            lambda: anyio.to_thread.current_default_thread_limiter().total_tokens
        )
    pool = app.state.engine.pool
    assert threads <= pool.size()
    assert threads + 2 <= pool.size() + pool._max_overflow  # login's hash threads read too


@pytest.fixture
def sqlite_engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}", wait=0.5)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    yield engine
    engine.dispose()


def _write(engine, x: int) -> None:
    with session_scope(engine, write=True) as s:
        s.execute(text("INSERT INTO t VALUES (:x)"), {"x": x})


def test_a_failed_writer_lets_the_next_one_in(sqlite_engine):
    with pytest.raises(RuntimeError), session_scope(sqlite_engine, write=True) as s:
        s.execute(text("INSERT INTO t VALUES (1)"))
        raise RuntimeError("the batch failed")
    _write(sqlite_engine, 2)  # within the 0.5 s wait: the lock was let go at the rollback
    with session_scope(sqlite_engine) as s:
        assert s.execute(text("SELECT x FROM t")).scalars().all() == [2]


def test_writers_of_one_process_take_turns(sqlite_engine):
    """Thirty writers at once all get in (each holds the lock briefly; the queue is short
    of the 0.5 s wait), and none is told the database is locked."""
    errors: list[Exception] = []

    def write(x: int) -> None:
        try:
            _write(sqlite_engine, x)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with session_scope(sqlite_engine) as s:
        assert s.execute(text("SELECT count(*) FROM t")).scalar_one() == 30


def test_another_process_holding_the_writer_is_busy_then_let_go(sqlite_engine, tmp_path):
    """SQLite's own lock, taken outside this process, still ends in "database is locked"
    (503 server_busy) after the wait; our lock is let go, so the next writer gets in."""
    other = sqlite3.connect(tmp_path / "w.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(OperationalError, match="database is locked"):
            _write(sqlite_engine, 1)
    finally:
        other.execute("ROLLBACK")
        other.close()
    _write(sqlite_engine, 2)


def test_a_writer_waiting_past_the_wait_is_told_the_database_is_locked(sqlite_engine):
    held = threading.Event()
    done = threading.Event()

    def holder() -> None:
        with session_scope(sqlite_engine, write=True) as s:
            s.execute(text("INSERT INTO t VALUES (1)"))
            held.set()
            done.wait(5)

    t = threading.Thread(target=holder)
    t.start()
    held.wait(5)
    try:
        with pytest.raises(OperationalError, match="database is locked"):
            _write(sqlite_engine, 2)
    finally:
        done.set()
        t.join()
    _write(sqlite_engine, 3)
