"""A user's own page language (`user.lang`), and what a device told us about itself at login
(`device.user_agent`, `device.model`) so the devices page can say "Redmi 12 · Chrome 120"
instead of a raw user-agent string.

Revision ID: 0004_people_prefs
Revises: 0003_point_summary
Create Date: 2026-11-27 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004_people_prefs"
down_revision: str | None = "0003_point_summary"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("user") as batch:
        batch.add_column(
            sa.Column("lang", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True)
        )
    with op.batch_alter_table("device") as batch:
        batch.add_column(
            sa.Column("user_agent", sqlmodel.sql.sqltypes.AutoString(length=512), nullable=True)
        )
        batch.add_column(
            sa.Column("model", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("device") as batch:
        batch.drop_column("model")
        batch.drop_column("user_agent")
    with op.batch_alter_table("user") as batch:
        batch.drop_column("lang")
