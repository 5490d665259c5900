"""A database that cannot be reached in time (every pooled connection taken, or SQLite's
writer held) answers 503 `server_busy` with Retry-After, which a phone retries, not a 500."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import create_engine, text
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from server.db import make_engine
from server.handlers import error_handlers


def tiny_app(work) -> Starlette:
    async def endpoint(request):
        return JSONResponse(await run_in_threadpool(work))

    return Starlette(routes=[Route("/api/work", endpoint)], exception_handlers=error_handlers())


def busy_answer(app: Starlette):
    with TestClient(app, raise_server_exceptions=False) as client:
        return client.get("/api/work")


def test_a_full_connection_pool_answers_503_busy(db_url):
    engine = make_engine(db_url, pool_size=1, max_overflow=0, pool_timeout=0.05)

    def work():
        with engine.connect() as conn:
            return conn.execute(text("SELECT 1")).scalar_one()

    held = engine.connect()  # the pool's only connection
    try:
        r = busy_answer(tiny_app(work))
    finally:
        held.close()
    assert r.status_code == 503, r.text
    assert r.json()["error"]["code"] == "server_busy"
    assert r.headers["retry-after"] == "2"
    assert "2" in r.json()["error"]["message_en"]
    with TestClient(tiny_app(work)) as client:  # and when the crowd is gone, it works
        assert client.get("/api/work").json() == 1
    engine.dispose()


def test_sqlite_writer_held_too_long_answers_503_busy(tmp_path):
    path = tmp_path / "x.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x INTEGER)")
    holder.execute("BEGIN IMMEDIATE")
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0.05})

    def work():
        with engine.connect() as conn:
            conn.exec_driver_sql("INSERT INTO t VALUES (1)")
            conn.commit()
        return 1

    try:
        r = busy_answer(tiny_app(work))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert r.status_code == 503 and r.json()["error"]["code"] == "server_busy"


def test_other_database_errors_stay_500(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'y.db'}")

    def work():
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT * FROM no_such_table")

    r = busy_answer(tiny_app(work))
    assert r.status_code == 500 and r.json()["error"]["code"] == "internal"


@pytest.fixture(autouse=True)
def _quiet_logs(caplog):
    caplog.set_level("CRITICAL", logger="xunjian")
