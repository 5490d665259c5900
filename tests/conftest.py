"""Fixtures: every database test runs on SQLite and, when reachable, on PostgreSQL.

PostgreSQL gets a database of its own per run (dropped afterwards), so runs never see each
other's rows. Where it is absent the postgres half skips and says why.
"""

from __future__ import annotations

import functools
import os
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from starlette.testclient import TestClient

from server.app import create_app
from server.db import make_engine
from server.migrate import head_revisions, install_shipped, upgrade
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


@pytest.fixture(scope="session")
def pg_url():
    admin, why = _pg_admin_url()
    if admin is None:
        pytest.skip(why)
    name = f"xj_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    eng = create_engine(admin, isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin.rsplit("/", 1)[0] + "/" + name
    upgrade(url)
    yield url
    with eng.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    eng.dispose()


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


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path, sqlite_template) -> str:
    """A migrated, empty database: a fresh SQLite file, or the run's PostgreSQL database
    emptied."""
    if request.param == "sqlite":
        path = tmp_path / "xunjian.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("pg_url")
    _truncate_pg(url)
    return url


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
def demo(engine, settings):
    """The Qian County demo loaded into this test's database."""
    from server.db import session_scope
    from server.services.demo import build_demo

    with session_scope(engine, write=True) as session:
        return build_demo(session, settings.data_path, password=DEMO_PASSWORD)


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
