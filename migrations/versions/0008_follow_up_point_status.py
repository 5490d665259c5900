"""Open follow-ups by point: one index on (point_id, status).

The township and point pages count each point's open follow-ups. With only the separate
indexes, SQLite (even after ANALYZE) reads every open follow-up of the province through
`ix_follow_up_status` and filters by point: 130 ms on the benchmark's 160,000 open rows
(docs/benchmarks.md). The pair answers it from the index.

Revision ID: 0008_follow_up_point_status
Revises: 0007_rating_incomplete
Create Date: 2026-12-01 12:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008_follow_up_point_status"
down_revision: str | None = "0007_rating_incomplete"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_follow_up_point_status", "follow_up", ["point_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_follow_up_point_status", table_name="follow_up")
