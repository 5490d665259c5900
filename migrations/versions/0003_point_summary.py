"""Points carry `last_inspection` in their change rows (docs/sync-protocol.md, "Change rows"):
give every point with a submitted inspection a new change sequence number, so phones that
pulled it before pull it again, with the summary. No schema change.

Revision ID: 0003_point_summary
Revises: 0002_sync
Create Date: 2026-11-26 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_point_summary"
down_revision: str | None = "0002_sync"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    conn = op.get_bind()
    ids = [
        row[0]
        for row in conn.execute(
            sa.text(
                "SELECT DISTINCT point_id FROM inspection "
                "WHERE status = 'submitted' AND submitted_at IS NOT NULL ORDER BY point_id"
            )
        )
    ]
    if not ids:
        return
    last = conn.execute(
        sa.text("UPDATE change_counter SET value = value + :n WHERE id = 1 RETURNING value"),
        {"n": len(ids)},
    ).scalar()
    if last is None:
        return
    first = last - len(ids) + 1
    conn.execute(
        sa.text("UPDATE service_point SET seq = :seq WHERE id = :id"),
        [{"seq": first + n, "id": pid} for n, pid in enumerate(ids)],
    )


def downgrade() -> None:
    # Nothing to undo: a newer sequence number only makes phones pull the row once more.
    pass
