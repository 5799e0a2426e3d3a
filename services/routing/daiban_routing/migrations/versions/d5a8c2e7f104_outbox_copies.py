"""outbox rows per event and subject (copies for other nodes)

Revision ID: d5a8c2e7f104
Revises: c4f1a7d2e9b3
Create Date: 2026-12-06 18:10:00
"""

from collections.abc import Sequence

from daiban_common import migration_steps

revision: str = "d5a8c2e7f104"
down_revision: str | None = "c4f1a7d2e9b3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    migration_steps.outbox_rows_per_subject("routing")


def downgrade() -> None:
    migration_steps.outbox_rows_per_event("routing")
