"""org units replica

Revision ID: ebdd91248be0
Revises: 0aa5807bdcc8
Create Date: 2026-12-06 12:16:35.030931
"""

from collections.abc import Sequence

from daiban_common import migration_steps

revision: str = "ebdd91248be0"
down_revision: str | None = "0aa5807bdcc8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    migration_steps.create_org_units_replica("intake")


def downgrade() -> None:
    migration_steps.drop_org_units_replica("intake")
