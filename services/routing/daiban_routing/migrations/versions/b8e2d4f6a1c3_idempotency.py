"""idempotency table of the platform (daiban_common.idempotency)

Revision ID: b8e2d4f6a1c3
Revises: 5e1f0c2a9b7d
Create Date: 2026-12-06 13:40:00.000000
"""

from collections.abc import Sequence

from daiban_common import migration_steps

revision: str = "b8e2d4f6a1c3"
down_revision: str | None = "5e1f0c2a9b7d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    migration_steps.create_idempotency_table("routing")


def downgrade() -> None:
    migration_steps.drop_idempotency_table("routing")
