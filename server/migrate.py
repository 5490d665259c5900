"""Run Alembic from the installed package, so `xunjian db upgrade` needs no alembic.ini.

After the schema, `upgrade` installs the shipped checklists (services/templates.
install_shipped): data that follows the package, not the schema, so it is not a migration
whose text would have to change with every checklist edit.
"""

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


def upgrade(url: str, revision: str = "head") -> list:
    """Migrate, then (at head) install the shipped checklists; returns the versions added."""
    command.upgrade(alembic_config(url), revision)
    if revision != "head":
        return []
    return install_shipped(url)


def install_shipped(url: str) -> list:
    from server.db import make_engine, session_scope
    from server.services import audit
    from server.services.templates import install_shipped as install

    engine = make_engine(url)
    try:
        with session_scope(engine, write=True) as session:
            added = install(session)
            for version in added:
                audit.record(
                    session,
                    "template.shipped",
                    target_type="template_version",
                    target_id=version.id,
                    detail={"via": "db upgrade", "version": version.version},
                )
            return [(v.content["key"], v.version) for v in added]
    finally:
        engine.dispose()


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
