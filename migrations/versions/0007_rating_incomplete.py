"""An inspection's rating may be "incomplete" (未完成): required items left blank were not
inspected, which is not a failing library (docs/architecture.md, "Not inspected").

`inspection.rating` grows from 8 to 16 characters, as `point_summary.rating` already is.
Stored results are not re-evaluated here (a migration does not run the rule engine): an
inspection is rated by the new rule when it is next evaluated (a new submission, an edit
synced, evidence arriving); until then it keeps the rating it was given.

Revision ID: 0007_rating_incomplete
Revises: 0006_plans_boundaries
Create Date: 2026-12-01 04:00:00
"""

from collections.abc import Sequence

import sqlmodel
from alembic import op

revision: str = "0007_rating_incomplete"
down_revision: str | None = "0006_plans_boundaries"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("inspection") as batch_op:
        batch_op.alter_column(
            "rating",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=8),
            type_=sqlmodel.sql.sqltypes.AutoString(length=16),
            existing_nullable=True,
        )


def downgrade() -> None:
    # an "incomplete" rating does not fit back: forget it (it is recomputed from the answers)
    op.execute("UPDATE inspection SET rating = NULL WHERE rating = 'incomplete'")
    with op.batch_alter_table("inspection") as batch_op:
        batch_op.alter_column(
            "rating",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=16),
            type_=sqlmodel.sql.sqltypes.AutoString(length=8),
            existing_nullable=True,
        )
