"""The active points per township from one index: `service_point (active, township_id)`
replaces 0011's `(active)`.

The overview counts a province's active points per county: with only the township index
SQLite read every point row to test `active` (10-20 ms); with the pair it counts from the
index alone, and the closed points (`active` false) are still one range of it.

Revision ID: 0012_point_active_township
Revises: 0011_desk_indexes
Create Date: 2026-12-01 08:55:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012_point_active_township"
down_revision: str | None = "0011_desk_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_service_point_active", table_name="service_point")
    op.create_index("ix_service_point_active_township", "service_point", ["active", "township_id"])


def downgrade() -> None:
    op.drop_index("ix_service_point_active_township", table_name="service_point")
    op.create_index("ix_service_point_active", "service_point", ["active"])
