"""The point index carries the cycle, so a point's latest inspection in each cycle is read
from the index alone (services/summaries.py, `_latest`).

Every writer that changes what a point counts for refreshes its summaries under the writer
lock, per cycle. Finding each (point, cycle)'s latest submitted inspection read every
submitted inspection of the point into Python, so a sync batch's refresh grew with the
points' history. With `cycle_id` after `submitted_at` in the index (its order, which
services/latest.py reads, is unchanged), the database finds each cycle's latest time from
the index alone (it still walks the points' entries), and only the rows at those times
are read.

Revision ID: 0015_point_cycle_latest
Revises: 0014_point_latest
Create Date: 2026-12-01 22:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015_point_cycle_latest"
down_revision: str | None = "0014_point_latest"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = ["point_id", "status", "submitted_at"]


def upgrade() -> None:
    op.drop_index("ix_inspection_point_latest", table_name="inspection")
    op.create_index("ix_inspection_point_latest", "inspection", [*BEFORE, "cycle_id"])


def downgrade() -> None:
    op.drop_index("ix_inspection_point_latest", table_name="inspection")
    op.create_index("ix_inspection_point_latest", "inspection", BEFORE)
