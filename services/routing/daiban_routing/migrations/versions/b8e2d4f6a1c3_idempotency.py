"""idempotency table of the platform (daiban_common.idempotency)

Revision ID: b8e2d4f6a1c3
Revises: 5e1f0c2a9b7d
Create Date: 2026-12-06 13:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "b8e2d4f6a1c3"
down_revision: str | None = "5e1f0c2a9b7d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "idempotency",
        sa.Column("scope", sa.String(length=200), nullable=False),
        sa.Column("operation", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("media_type", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("headers", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("scope", "operation", "key"),
        schema="routing",
    )
    op.create_index(
        "ix_routing_idempotency_created_at", "idempotency", ["created_at"], unique=False, schema="routing"
    )


def downgrade() -> None:
    op.drop_index("ix_routing_idempotency_created_at", table_name="idempotency", schema="routing")
    op.drop_table("idempotency", schema="routing")
