"""outbox rows per event and subject (copies for other nodes)

Revision ID: f7c3a9e5b224
Revises: e6b9d4f2a813
Create Date: 2026-12-06 18:10:00
"""

from collections.abc import Sequence

from daiban_common import migration_steps

revision: str = "f7c3a9e5b224"
down_revision: str | None = "e6b9d4f2a813"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    migration_steps.outbox_rows_per_subject("audit")


def downgrade() -> None:
    migration_steps.outbox_rows_per_event("audit")
