"""Inspection plans and township boundaries.

- `assignment` becomes a plan with a window: `start_date` (backfilled from its cycle's
  start) and `due_date` (now required; backfilled from the cycle's end), a note, who made
  it and when, and `cancelled_at`. A point may be planned again in one cycle with a later
  window, so the unique key gains `start_date` (`uq_assignment_window`); the old unnamed
  one goes. Every changed row is stamped again so phones pull the new fields.
- `area_boundary`: one GeoJSON (Multi)Polygon per area, with its bounding box.
- `cycle.assessment_date`: the day the assessors come.
- `audit_log.area_id`: the area a change concerns (the audit page's scope and filter).

Revision ID: 0006_plans_boundaries
Revises: 0005_summaries
Create Date: 2026-12-01 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006_plans_boundaries"
down_revision: str | None = "0005_summaries"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_UNIQUE = ("cycle_id", "point_id", "inspector_id")


def _old_unique_name(conn) -> str | None:
    for uq in sa.inspect(conn).get_unique_constraints("assignment"):
        if tuple(uq["column_names"]) == OLD_UNIQUE:
            return uq["name"]
    return None


def upgrade() -> None:
    conn = op.get_bind()
    op.create_table(
        "area_boundary",
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("geometry", sa.JSON(), nullable=False),
        sa.Column("min_lon", sa.Float(), nullable=False),
        sa.Column("min_lat", sa.Float(), nullable=False),
        sa.Column("max_lon", sa.Float(), nullable=False),
        sa.Column("max_lat", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["area_id"], ["area.id"]),
        sa.ForeignKeyConstraint(["updated_by"], ["user.id"]),
        sa.PrimaryKeyConstraint("area_id"),
    )
    with op.batch_alter_table("cycle") as batch:
        batch.add_column(sa.Column("assessment_date", sa.Date(), nullable=True))
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("area_id", sa.Integer(), nullable=True))
        batch.create_index(batch.f("ix_audit_log_area_id"), ["area_id"], unique=False)
        batch.create_foreign_key("fk_audit_log_area_id", "area", ["area_id"], ["id"])
    with op.batch_alter_table("assignment") as batch:
        batch.add_column(sa.Column("start_date", sa.Date(), nullable=True))
        batch.add_column(
            sa.Column(
                "note",
                sqlmodel.sql.sqltypes.AutoString(length=255),
                nullable=False,
                server_default="",
            )
        )
        batch.add_column(sa.Column("created_by", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column(
                "created_at",
                sa.DateTime(timezone=True),
                nullable=False,
                server_default=sa.text("CURRENT_TIMESTAMP"),
            )
        )
        batch.add_column(sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True))
    conn.execute(
        sa.text(
            "UPDATE assignment SET start_date = (SELECT start_date FROM cycle "
            "WHERE cycle.id = assignment.cycle_id)"
        )
    )
    conn.execute(
        sa.text(
            "UPDATE assignment SET due_date = (SELECT end_date FROM cycle "
            "WHERE cycle.id = assignment.cycle_id) WHERE due_date IS NULL"
        )
    )
    ids = [r[0] for r in conn.execute(sa.text("SELECT id FROM assignment ORDER BY id"))]
    if ids:
        last = conn.execute(
            sa.text("UPDATE change_counter SET value = value + :n WHERE id = 1 RETURNING value"),
            {"n": len(ids)},
        ).scalar()
        first = last - len(ids) + 1
        conn.execute(
            sa.text("UPDATE assignment SET seq = :seq WHERE id = :id"),
            [{"seq": first + n, "id": i} for n, i in enumerate(ids)],
        )
    old = _old_unique_name(conn)
    naming = {"uq": "uq_%(table_name)s_%(column_0_name)s_%(column_1_name)s"}
    with op.batch_alter_table("assignment", naming_convention=naming) as batch:
        if conn.dialect.name == "sqlite" or old:
            batch.drop_constraint(old or "uq_assignment_cycle_id_point_id", type_="unique")
        batch.alter_column("start_date", existing_type=sa.Date(), nullable=False)
        batch.alter_column("due_date", existing_type=sa.Date(), nullable=False)
        batch.alter_column("note", server_default=None)
        batch.alter_column("created_at", server_default=None)
        batch.create_foreign_key("fk_assignment_created_by", "user", ["created_by"], ["id"])
        batch.create_unique_constraint(
            "uq_assignment_window", ["cycle_id", "point_id", "inspector_id", "start_date"]
        )


def downgrade() -> None:
    with op.batch_alter_table("assignment") as batch:
        batch.drop_constraint("uq_assignment_window", type_="unique")
        batch.drop_constraint("fk_assignment_created_by", type_="foreignkey")
        batch.alter_column("due_date", existing_type=sa.Date(), nullable=True)
        batch.drop_column("cancelled_at")
        batch.drop_column("created_at")
        batch.drop_column("created_by")
        batch.drop_column("note")
        batch.drop_column("start_date")
        batch.create_unique_constraint(None, list(OLD_UNIQUE))
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_constraint("fk_audit_log_area_id", type_="foreignkey")
        batch.drop_index(batch.f("ix_audit_log_area_id"))
        batch.drop_column("area_id")
    with op.batch_alter_table("cycle") as batch:
        batch.drop_column("assessment_date")
    op.drop_table("area_boundary")
