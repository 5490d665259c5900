"""Follow-ups to the end: who is responsible, fixed and closed on evidence; their counts
per area.

- `follow_up`: `responsible` and `responsible_phone` (backfilled from the point's manager),
  `closed_user_id`, `fixed_at`, `evidence` (photo sha256s), `note`; `due_date` indexed.
- `point_summary.follow_ups`: the point's not-closed follow-ups of the cycle by due date
  and status; `area_follow_up_summary`: their sums per township and county.

The fill is a frozen copy of services/summaries.py's rule at this revision.

Revision ID: 0009_followups_due
Revises: 0008_follow_up_point_status
Create Date: 2026-12-01 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0009_followups_due"
down_revision: str | None = "0008_follow_up_point_status"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "area_follow_up_summary",
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["area_id"], ["area.id"]),
        sa.ForeignKeyConstraint(["cycle_id"], ["cycle.id"]),
        sa.PrimaryKeyConstraint("cycle_id", "area_id", "due_date", "status"),
    )
    with op.batch_alter_table("follow_up", schema=None) as batch_op:
        text = sqlmodel.sql.sqltypes.AutoString
        batch_op.add_column(
            sa.Column("responsible", text(length=32), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("responsible_phone", text(length=32), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("closed_user_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("fixed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("evidence", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
        batch_op.add_column(sa.Column("note", text(length=500), nullable=False, server_default=""))
        batch_op.create_foreign_key(
            "fk_follow_up_closed_user_id_user", "user", ["closed_user_id"], ["id"]
        )
        batch_op.create_index(batch_op.f("ix_follow_up_due_date"), ["due_date"], unique=False)
    with op.batch_alter_table("point_summary", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("follow_ups", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
    _fill(op.get_bind())


def downgrade() -> None:
    with op.batch_alter_table("point_summary", schema=None) as batch_op:
        batch_op.drop_column("follow_ups")
    with op.batch_alter_table("follow_up", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_follow_up_due_date"))
        batch_op.drop_constraint("fk_follow_up_closed_user_id_user", type_="foreignkey")
        for name in (
            "note",
            "evidence",
            "fixed_at",
            "closed_user_id",
            "responsible_phone",
            "responsible",
        ):
            batch_op.drop_column(name)
    op.drop_table("area_follow_up_summary")


def _fill(conn) -> None:
    conn.execute(
        sa.text(
            "UPDATE follow_up SET responsible = COALESCE((SELECT manager_name FROM service_point"
            " p WHERE p.id = follow_up.point_id), ''), responsible_phone = COALESCE((SELECT"
            " manager_phone FROM service_point p WHERE p.id = follow_up.point_id), '')"
        )
    )
    rows = conn.execute(
        sa.text(
            "SELECT f.point_id, f.cycle_id, f.due_date, f.status, s.township_id, s.county_id,"
            " s.counted FROM follow_up f JOIN point_summary s ON s.point_id = f.point_id"
            " AND s.cycle_id = f.cycle_id WHERE f.status <> 'closed'"
        )
    ).all()
    per_point: dict = {}
    per_area: dict = {}
    for pid, cid, due, status, township, county, counted in rows:
        due = due if isinstance(due, str) else due.isoformat()
        key = f"{due}|{status}"
        counts = per_point.setdefault((pid, cid), {})
        counts[key] = counts.get(key, 0) + 1
        if counted:
            for area in {township, county}:
                k = (cid, area, due, status)
                per_area[k] = per_area.get(k, 0) + 1
    summary = sa.table(
        "point_summary",
        sa.column("point_id"),
        sa.column("cycle_id"),
        sa.column("follow_ups", sa.JSON()),
    )
    for (pid, cid), counts in per_point.items():
        conn.execute(
            summary.update()
            .where(summary.c.point_id == pid, summary.c.cycle_id == cid)
            .values(follow_ups=counts)
        )
    if per_area:
        area = sa.table(
            "area_follow_up_summary",
            *(sa.column(c) for c in ("cycle_id", "area_id", "status", "count")),
            sa.column("due_date", sa.Date()),
        )
        from datetime import date

        conn.execute(
            area.insert(),
            [
                {
                    "cycle_id": c,
                    "area_id": a,
                    "due_date": date.fromisoformat(d),
                    "status": s,
                    "count": n,
                }
                for (c, a, d, s), n in sorted(per_area.items())
            ],
        )
