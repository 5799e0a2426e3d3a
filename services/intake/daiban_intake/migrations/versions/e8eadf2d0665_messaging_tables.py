"""messaging tables

Revision ID: e8eadf2d0665
Revises:
Create Date: 2026-11-22 07:47:07.404928
"""

from collections.abc import Sequence

from daiban_common import migration_steps

revision: str = "e8eadf2d0665"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    migration_steps.create_messaging_tables("intake")


def downgrade() -> None:
    migration_steps.drop_messaging_tables("intake")
