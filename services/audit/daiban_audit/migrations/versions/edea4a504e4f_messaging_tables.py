"""messaging tables

Revision ID: edea4a504e4f
Revises:
Create Date: 2026-11-22 07:47:13.468939
"""

from collections.abc import Sequence

from daiban_common import migration_steps

revision: str = "edea4a504e4f"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    migration_steps.create_messaging_tables("audit")


def downgrade() -> None:
    migration_steps.drop_messaging_tables("audit")
