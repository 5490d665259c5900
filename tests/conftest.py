"""Fixtures: every database test runs on SQLite and, when reachable, on PostgreSQL.

PostgreSQL gets a database of its own per run (dropped afterwards), so runs never see each
other's rows. Where it is absent the postgres half skips and says why.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from starlette.testclient import TestClient

from server.app import create_app
from server.db import make_engine, session_scope
from server.migrate import head_revisions, install_shipped, upgrade
from server.services.demo import DemoResult, build_demo
from server.settings import Settings
from tests.logins import DEMO_PASSWORD, api_login, web_login

PG_ADMIN_URL = os.environ.get(
    "XUNJIAN_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _pg_admin_url() -> tuple[str | None, str]:
    try:
        eng = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with eng.connect() as conn:
            conn.execute(text("SELECT 1"))
        eng.dispose()
        return PG_ADMIN_URL, ""
    except Exception as exc:
        return None, f"PostgreSQL not reachable at {PG_ADMIN_URL}: {type(exc).__name__}: {exc}"


@contextlib.contextmanager
def _pg_database(kind: str, template: str | None = None) -> Iterator[str]:
    """A new PostgreSQL database of this run (a copy of `template`, if given), dropped on
    exit; yields its URL."""
    name = f"xj_{os.getpid()}_{kind}{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    copy = f' TEMPLATE "{template}"' if template else ""
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def pg_url():
    admin, why = _pg_admin_url()
    if admin is None:
        pytest.skip(why)
    with _pg_database("") as url:
        upgrade(url)
        yield url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


def _truncate_pg(url: str) -> None:
    eng = make_engine(url)
    with eng.begin() as conn:
        tables = [
            r[0]
            for r in conn.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename <> 'alembic_version'"
                )
            )
        ]
        conn.execute(
            text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")
        )
        conn.execute(text("INSERT INTO change_counter (id, value) VALUES (1, 0)"))
        # A test may have tampered with the recorded revision; put the head back.
        conn.execute(text("DELETE FROM alembic_version"))
        for head in head_revisions(url):
            conn.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": head})
    eng.dispose()
    # what `db upgrade` leaves in a fresh database, as the SQLite template has it
    install_shipped(url)


@dataclass(frozen=True)
class DemoCopy:
    """A database with the demo loaded, built once per run and copied into each test that
    asks for the demo (`demo` is in half the tests; building it took ~1 s on SQLite and
    ~1.5 s on PostgreSQL each time, a copy takes a few milliseconds)."""

    url: str  # SQLite: the file's URL; PostgreSQL: a database to use as a TEMPLATE
    data: Path  # the photos the demo wrote
    result: DemoResult


def _build_demo(url: str, data: Path) -> DemoResult:
    eng = make_engine(url)
    with session_scope(eng, write=True) as session:
        result = build_demo(session, data, password=DEMO_PASSWORD)
    if eng.dialect.name == "sqlite":
        with eng.connect() as conn:  # all in the main file, so copying the file copies it all
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    eng.dispose()
    return result


@pytest.fixture(scope="session")
def sqlite_demo(tmp_path_factory, sqlite_template) -> DemoCopy:
    where = tmp_path_factory.mktemp("sqlite-demo")
    shutil.copy(sqlite_template, where / "demo.db")
    url = f"sqlite:///{where / 'demo.db'}"
    return DemoCopy(url, where / "data", _build_demo(url, where / "data"))


@pytest.fixture(scope="session")
def pg_demo(pg_url, tmp_path_factory):
    with _pg_database("demo_") as url:
        upgrade(url)
        data = tmp_path_factory.mktemp("pg-demo") / "data"
        yield DemoCopy(url, data, _build_demo(url, data))


_DEMO_COPIES: dict[str, DemoCopy] = {}  # by the URL of a test's database that is a copy


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path, sqlite_template):
    """A migrated, empty database: a fresh SQLite file, or the run's PostgreSQL database
    emptied. A test that uses the demo gets a copy of the demo's database instead."""
    with_demo = "demo" in request.fixturenames
    if request.param == "sqlite":
        path = tmp_path / "xunjian.db"
        url = f"sqlite:///{path}"
        if not with_demo:
            shutil.copy(sqlite_template, path)
            yield url
            return
        copy = request.getfixturevalue("sqlite_demo")
        shutil.copy(copy.url.removeprefix("sqlite:///"), path)
        shutil.copytree(copy.data, tmp_path / "data")
        _DEMO_COPIES[url] = copy
        yield url
        _DEMO_COPIES.pop(url, None)
        return
    url = request.getfixturevalue("pg_url")
    if not with_demo:
        _truncate_pg(url)
        yield url
        return
    copy = request.getfixturevalue("pg_demo")
    with _pg_database("t", template=copy.url.rsplit("/", 1)[1]) as url:
        shutil.copytree(copy.data, tmp_path / "data")
        _DEMO_COPIES[url] = copy
        yield url
        _DEMO_COPIES.pop(url, None)


@pytest.fixture
def engine(db_url):
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def settings(db_url, tmp_path) -> Settings:
    return Settings.from_env(
        env={},
        database_url=db_url,
        data_dir=str(tmp_path / "data"),
        secret_key="test-secret-key-not-a-placeholder",
    )


@pytest.fixture
def app(settings):
    return create_app(settings)


@pytest.fixture
def client(app):
    with TestClient(app) as c:
        yield c


@pytest.fixture
def demo(db_url, engine, settings):
    """The Qian County demo loaded into this test's database (a copy, see DemoCopy)."""
    copy = _DEMO_COPIES.get(db_url)
    if copy is not None:
        return copy_result(copy.result)
    with session_scope(engine, write=True) as session:  # asked for late: built here
        return build_demo(session, settings.data_path, password=DEMO_PASSWORD)


def copy_result(result: DemoResult) -> DemoResult:
    return replace(result, passwords=dict(result.passwords), cycles=dict(result.cycles))


@pytest.fixture
def login(client, demo):
    """login(username="inspector", device="d-1") -> the headers of a phone logged in to the
    demo."""
    return functools.partial(api_login, client)


@pytest.fixture
def office(client, demo):
    """The in-process client, logged in to the office pages as the demo's supervisor."""
    r = web_login(client)
    assert r.status_code == 303, r.text
    return client


def pytest_report_header(config):
    admin, why = _pg_admin_url()
    if admin:
        return f"PostgreSQL: {admin} reachable; database tests run on SQLite and PostgreSQL"
    return f"PostgreSQL: SKIPPED, database tests run on SQLite only. {why}"
