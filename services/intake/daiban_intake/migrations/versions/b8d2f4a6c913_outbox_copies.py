"""outbox rows per event and subject (copies for other nodes)

Revision ID: b8d2f4a6c913
Revises: c9e1f3a5b7d2
Create Date: 2026-12-06 18:10:00
"""

from collections.abc import Sequence

from daiban_common import migration_steps

revision: str = "b8d2f4a6c913"
down_revision: str | None = "c9e1f3a5b7d2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    migration_steps.outbox_rows_per_subject("intake")


def downgrade() -> None:
    migration_steps.outbox_rows_per_event("intake")
