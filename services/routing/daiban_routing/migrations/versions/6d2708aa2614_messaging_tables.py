"""messaging tables

Revision ID: 6d2708aa2614
Revises:
Create Date: 2026-11-22 07:47:10.403604
"""

from collections.abc import Sequence

from daiban_common import migration_steps

revision: str = "6d2708aa2614"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    migration_steps.create_messaging_tables("routing")


def downgrade() -> None:
    migration_steps.drop_messaging_tables("routing")
