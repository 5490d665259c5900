"""Indexes the pull reads changes after a cursor from (services/sync_pull.py).

Each sync asks, per kind, for the scope's rows whose change number `seq` is past the
phone's cursor: the inspector's inspections and assignments, the follow-ups and points of
the scope's townships. With one-column indexes on the scope column (`inspection
(inspector_id)`, `follow_up (point_id)`, ...) SQLite read every row the scope ever had, then
sorted them by `seq`, on every sync: ~10 ms per request for the inspections and as much for
the follow-ups after 3,000 inspections, and growing with each year's work. `(scope column,
seq)` gives just the rows past the cursor. They replace the one-column indexes (their first
column serves every query those served), so a write maintains as many indexes as before.

`inspection (inspector_id, created_at, id) WHERE NOT evidence_complete`: the records still
waiting for photos. The sync lists an inspector's missing photos from the oldest of them,
and a photo upload finds the records it completes among them. Both read and sorted every
inspection the inspector (or, for the upload, the whole server) ever had, where only the
few still waiting matter. A record leaves the index when its last photo arrives.

Revision ID: 0013_pull_indexes
Revises: 0012_point_active_township
Create Date: 2026-12-01 18:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_pull_indexes"
down_revision: str | None = "0012_point_active_township"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, scope column, name): the new index is ix_<table>_<name>_seq, the old one
# ix_<table>_<column>
PAIRS = (
    ("inspection", "inspector_id", "inspector"),
    ("follow_up", "point_id", "point"),
    ("assignment", "inspector_id", "inspector"),
    ("assignment", "point_id", "point"),
    ("service_point", "township_id", "township"),
)


def upgrade() -> None:
    for table, column, name in PAIRS:
        op.create_index(f"ix_{table}_{name}_seq", table, [column, "seq"])
        op.drop_index(f"ix_{table}_{column}", table_name=table)
    op.create_index(
        "ix_inspection_waiting",
        "inspection",
        ["inspector_id", "created_at", "id"],
        sqlite_where=sa.text("evidence_complete IS 0"),
        postgresql_where=sa.text("evidence_complete IS false"),
    )


def downgrade() -> None:
    op.drop_index("ix_inspection_waiting", table_name="inspection")
    for table, column, name in reversed(PAIRS):
        op.create_index(f"ix_{table}_{column}", table, [column])
        op.drop_index(f"ix_{table}_{name}_seq", table_name=table)
