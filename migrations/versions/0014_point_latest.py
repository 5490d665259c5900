"""An index for each point's latest submitted inspection (services/latest.py).

A sync batch needs, for each point it touches, the latest submitted inspection (whether an
op's inspection is the latest decides its follow-ups), and the pull's point rows carry it.
With the one-column `inspection (point_id)` index both read every inspection the point ever
had, under the writer lock for the first, and a point gains one or more every year.
`(point_id, status, submitted_at)` gives the latest at once. It replaces the one-column
index (its first column serves every query that one served), so a write maintains as many
indexes as before.

Revision ID: 0014_point_latest
Revises: 0013_pull_indexes
Create Date: 2026-12-01 21:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014_point_latest"
down_revision: str | None = "0013_pull_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_inspection_point_latest", "inspection", ["point_id", "status", "submitted_at"]
    )
    op.drop_index("ix_inspection_point_id", table_name="inspection")


def downgrade() -> None:
    op.create_index("ix_inspection_point_id", "inspection", ["point_id"])
    op.drop_index("ix_inspection_point_latest", table_name="inspection")
