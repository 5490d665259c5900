"""An inspection remembers the device that sent its current state exactly as stored, so that
device's pull does not download it back (services/sync_pull.py).

A sync answer already left out the records its own request wrote unchanged. But when a
large batch's changes fill more than one page, the device pulls the rest with requests of
no ops, and those pages echoed every record it had just sent: after a week's backlog,
hundreds of full inspections downloaded again over a village link. With the device and
the change number it was stored at, the pull leaves a record out for that device while the
record has not changed since; any other change gives it a new number, and it is sent.

Revision ID: 0016_inspection_echo
Revises: 0015_point_cycle_latest
Create Date: 2026-12-02 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_inspection_echo"
down_revision: str | None = "0015_point_cycle_latest"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("inspection", sa.Column("echo_device", sa.String(length=64), nullable=True))
    op.add_column("inspection", sa.Column("echo_seq", sa.Integer(), nullable=True))


def downgrade() -> None:
    # plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): a batch copy of the table would have
    # to rebuild its partial index (ix_inspection_waiting) from reflection
    op.drop_column("inspection", "echo_seq")
    op.drop_column("inspection", "echo_device")
