"""Alembic environment: the URL comes from the caller's config or XUNJIAN_DATABASE_URL."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import server.models  # noqa: F401  (registers every table)
from server.db import make_engine
from server.settings import Settings

config = context.config
target_metadata = SQLModel.metadata


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or Settings.from_env().database_url


def run_migrations_offline() -> None:
    context.configure(
        url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url())
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection) -> None:
    """On SQLite, a batch migration rebuilds a table (copy, drop, rename); with foreign keys
    enforced, dropping a table that other rows point at (inspection, follow_up) fails on any
    database holding data. SQLite's own recipe for altering tables: switch enforcement off
    for the migration, check every reference afterwards, switch it back on."""
    sqlite = connection.dialect.name == "sqlite"
    # Straight to the driver: the pragma is a no-op inside a transaction, and the engine's
    # `begin` hook would open one around anything sent through SQLAlchemy.
    raw = connection.connection.driver_connection if sqlite else None
    if raw is not None:
        connection.commit()
        raw.execute("PRAGMA foreign_keys=OFF")
    try:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
            if raw is not None:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"migration left broken references: {broken[:5]}")
    finally:
        if raw is not None:
            connection.commit()
            raw.execute("PRAGMA foreign_keys=ON")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
