"""staff replica

Revision ID: a4c7e9b2d315
Revises: d5a8c3e1f702
Create Date: 2026-12-06 17:00:00.000000
"""

from collections.abc import Sequence

from daiban_common import migration_steps

revision: str = "a4c7e9b2d315"
down_revision: str | None = "d5a8c3e1f702"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    migration_steps.create_staff_replica("intake")


def downgrade() -> None:
    migration_steps.drop_staff_replica("intake")
