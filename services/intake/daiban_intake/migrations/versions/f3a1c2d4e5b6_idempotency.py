"""idempotency table of the platform (daiban_common.idempotency)

Replaces the service's own `idempotency_keys` table, which is dropped with its rows: they
lack the operation the new key scope needs, and this is pre-release software (a retry
older than the upgrade runs again instead of replaying).

Revision ID: f3a1c2d4e5b6
Revises: ebdd91248be0
Create Date: 2026-12-06 13:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from daiban_common import migration_steps

revision: str = "f3a1c2d4e5b6"
down_revision: str | None = "ebdd91248be0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_table("idempotency_keys", schema="intake")
    migration_steps.create_idempotency_table("intake")


def downgrade() -> None:
    migration_steps.drop_idempotency_table("intake")
    op.create_table(
        "idempotency_keys",
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("media_type", sa.String(length=64), nullable=False),
        sa.Column("body", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("actor", "key"),
        schema="intake",
    )
