"""messaging tables

Revision ID: ecc9d8f2db1d
Revises:
Create Date: 2026-11-22 07:47:16.552341
"""

from collections.abc import Sequence

from daiban_common import migration_steps

revision: str = "ecc9d8f2db1d"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    migration_steps.create_messaging_tables("catalogue")


def downgrade() -> None:
    migration_steps.drop_messaging_tables("catalogue")
