"""idempotency table of the platform (daiban_common.idempotency)

Replaces the service's own `idempotency_keys` table, which is dropped with its rows: they
lack the operation the new key scope needs, and this is pre-release software (a retry
older than the upgrade runs again instead of replaying).

Revision ID: a4b7c9d1e2f3
Revises: 130ff54788ea
Create Date: 2026-12-06 13:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "a4b7c9d1e2f3"
down_revision: str | None = "130ff54788ea"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_table("idempotency_keys", schema="catalogue")
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
        schema="catalogue",
    )
    op.create_index(
        "ix_catalogue_idempotency_created_at", "idempotency", ["created_at"], unique=False, schema="catalogue"
    )


def downgrade() -> None:
    op.drop_index("ix_catalogue_idempotency_created_at", table_name="idempotency", schema="catalogue")
    op.drop_table("idempotency", schema="catalogue")
    op.create_table(
        "idempotency_keys",
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("result_kind", sa.String(length=16), nullable=False),
        sa.Column("result", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("actor", "key"),
        schema="catalogue",
    )
