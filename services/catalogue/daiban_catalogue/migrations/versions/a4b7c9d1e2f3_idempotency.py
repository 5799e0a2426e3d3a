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

from daiban_common import migration_steps

revision: str = "a4b7c9d1e2f3"
down_revision: str | None = "130ff54788ea"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_table("idempotency_keys", schema="catalogue")
    migration_steps.create_idempotency_table("catalogue")


def downgrade() -> None:
    migration_steps.drop_idempotency_table("catalogue")
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
