"""Run Alembic from the installed package, so `xunjian db upgrade` needs no alembic.ini."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

import migrations


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(migrations.__file__).parent))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def head_revisions(url: str) -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config(url)).get_heads())


def current_revisions(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())


class SchemaBehind(RuntimeError):
    """The database is not at the migration head: `xunjian db upgrade` first."""


def schema_state(engine: Engine, url: str) -> tuple[set[str], set[str]]:
    """(the database's revisions, the code's heads): equal when the schema is current."""
    return current_revisions(engine), head_revisions(url)


def require_current(engine: Engine, url: str) -> None:
    """Refuse to work on a database behind (or ahead of) this code's migrations."""
    current, head = schema_state(engine, url)
    if current != head:
        raise SchemaBehind(f"database at {sorted(current)}, code at {sorted(head)}")
