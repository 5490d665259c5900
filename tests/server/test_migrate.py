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
    from sqlalchemy import text

    with engine.connect() as conn:
        assert conn.execute(text("SELECT value FROM change_counter WHERE id = 1")).scalar() == 0
