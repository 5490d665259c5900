"""The models and the migration head describe the same schema, on both databases."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

import server.models  # noqa: F401
from server.migrate import current_revisions, head_revisions


def test_models_match_migration_head(engine, db_url):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == [], f"models and migrations disagree: {diff}"
    assert current_revisions(engine) == head_revisions(db_url)


def test_change_counter_is_seeded(engine):
    """A fresh database's only stamped rows are the shipped checklists."""
    from sqlalchemy import text

    with engine.connect() as conn:
        counter = conn.execute(text("SELECT value FROM change_counter WHERE id = 1")).scalar()
        seqs = conn.execute(text("SELECT seq FROM template_version ORDER BY seq")).scalars()
        assert list(seqs) == list(range(1, counter + 1)) and counter >= 2


def test_migrations_keep_a_county_s_data_on_sqlite(tmp_path, monkeypatch):
    """Upgrading a database that holds inspections and follow-ups: SQLite rebuilds a table to
    alter it, and with foreign keys enforced dropping `inspection` failed while follow-ups
    pointed at it (0007). Down to before the rebuilds and up again, nothing is lost."""
    import sqlite3

    from alembic import command

    from server.cli import main
    from server.migrate import alembic_config

    db = tmp_path / "county.db"
    monkeypatch.setenv("XUNJIAN_DATA_DIR", str(tmp_path / "data"))
    assert main(["demo", "--db", str(db)]) == 0
    tables = ("inspection", "follow_up", "point_summary", "service_point")

    def counts() -> list[int]:
        with sqlite3.connect(db) as conn:
            return [conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables]

    before = counts()
    assert before[0] > 0 and before[1] > 0
    cfg = alembic_config(f"sqlite:///{db}")
    command.downgrade(cfg, "0006_plans_boundaries")
    command.upgrade(cfg, "head")
    assert counts() == before
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
