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
