"""Sync tables: op log (stored acks), inspection revisions, conflicts, quarantine, retired
device tokens.

Revision ID: 0002_sync
Revises: 0001_core
Create Date: 2026-11-26 09:01:49.766973
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0002_sync"
down_revision: str | None = "0001_core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inspection_revision",
        sa.Column("inspection_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("rev", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("op_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("device_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("inspection_id", "rev"),
    )
    op.create_table(
        "retired_token",
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("device_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    with op.batch_alter_table("retired_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_retired_token_device_id"), ["device_id"], unique=False)

    op.create_table(
        "sync_op",
        sa.Column("op_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("record_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("body_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("ack", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("op_id"),
    )
    with op.batch_alter_table("sync_op", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sync_op_device_id"), ["device_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sync_op_record_id"), ["record_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sync_op_user_id"), ["user_id"], unique=False)

    op.create_table(
        "sync_quarantine",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("op_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("body_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("record_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("point_code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("field", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("message_zh", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("message_en", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("raw", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("op_id", "body_hash", name="uq_sync_quarantine_op_body"),
    )
    with op.batch_alter_table("sync_quarantine", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sync_quarantine_code"), ["code"], unique=False)
        batch_op.create_index(batch_op.f("ix_sync_quarantine_op_id"), ["op_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_sync_quarantine_point_code"), ["point_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_sync_quarantine_record_id"), ["record_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_sync_quarantine_user_id"), ["user_id"], unique=False)

    op.create_table(
        "sync_conflict",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inspection_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("op_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("base_rev", sa.Integer(), nullable=False),
        sa.Column("server_rev", sa.Integer(), nullable=False),
        sa.Column("merged_rev", sa.Integer(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("server_version", sa.JSON(), nullable=False),
        sa.Column("client_version", sa.JSON(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_by", sa.Integer(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["inspection.id"],
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by"],
            ["user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("sync_conflict", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sync_conflict_inspection_id"), ["inspection_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_sync_conflict_op_id"), ["op_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sync_conflict_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_sync_conflict_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sync_conflict", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_conflict_user_id"))
        batch_op.drop_index(batch_op.f("ix_sync_conflict_status"))
        batch_op.drop_index(batch_op.f("ix_sync_conflict_op_id"))
        batch_op.drop_index(batch_op.f("ix_sync_conflict_inspection_id"))

    op.drop_table("sync_conflict")
    with op.batch_alter_table("sync_quarantine", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_quarantine_user_id"))
        batch_op.drop_index(batch_op.f("ix_sync_quarantine_record_id"))
        batch_op.drop_index(batch_op.f("ix_sync_quarantine_point_code"))
        batch_op.drop_index(batch_op.f("ix_sync_quarantine_op_id"))
        batch_op.drop_index(batch_op.f("ix_sync_quarantine_code"))

    op.drop_table("sync_quarantine")
    with op.batch_alter_table("sync_op", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_op_user_id"))
        batch_op.drop_index(batch_op.f("ix_sync_op_record_id"))
        batch_op.drop_index(batch_op.f("ix_sync_op_device_id"))

    op.drop_table("sync_op")
    with op.batch_alter_table("retired_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_retired_token_device_id"))

    op.drop_table("retired_token")
    op.drop_table("inspection_revision")
