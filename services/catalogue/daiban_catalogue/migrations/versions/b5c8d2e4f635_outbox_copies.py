"""outbox rows per event and subject (copies for other nodes)

Revision ID: b5c8d2e4f635
Revises: a4b7c9d1e2f3
Create Date: 2026-12-06 18:10:00
"""

from collections.abc import Sequence

from daiban_common import migration_steps

revision: str = "b5c8d2e4f635"
down_revision: str | None = "a4b7c9d1e2f3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    migration_steps.outbox_rows_per_subject("catalogue")


def downgrade() -> None:
    migration_steps.outbox_rows_per_event("catalogue")
