"""Indexes for the director's desk at province scale (docs/benchmarks.md).

- `area_follow_up_summary (area_id, status, due_date, count)`: the overview counts the open
  and overdue follow-ups of its areas from the summary; its key starts with the cycle, so
  without this SQLite read every county's and township's rows of every cycle (70 ms for a
  province). Covering: the sums come from the index alone.
- `point_summary (inspector_id, cycle_id, counted)`: each inspector's progress, grouped
  from the index alone, in its order; SQLite otherwise walked the inspector index and read
  every summary row with its JSON (55 ms for a province).
- `point_summary (cycle_id, counted, point_id, rating)`: the map's marker colours, 20,000
  of them for a province, from the index alone.
- `service_point (active)`: the closed points, whose open follow-ups the summaries do not
  count (the overview adds them), without reading every point.

Revision ID: 0011_desk_indexes
Revises: 0010_rate_counters
Create Date: 2026-12-01 08:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011_desk_indexes"
down_revision: str | None = "0010_rate_counters"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_area_follow_up_summary_area",
        "area_follow_up_summary",
        ["area_id", "status", "due_date", "count"],
    )
    op.create_index(
        "ix_point_summary_cycle_inspector",
        "point_summary",
        ["inspector_id", "cycle_id", "counted"],
    )
    op.create_index(
        "ix_point_summary_cycle_rating",
        "point_summary",
        ["cycle_id", "counted", "point_id", "rating"],
    )
    op.create_index("ix_service_point_active", "service_point", ["active"])


def downgrade() -> None:
    op.drop_index("ix_service_point_active", table_name="service_point")
    op.drop_index("ix_point_summary_cycle_rating", table_name="point_summary")
    op.drop_index("ix_point_summary_cycle_inspector", table_name="point_summary")
    op.drop_index("ix_area_follow_up_summary_area", table_name="area_follow_up_summary")
