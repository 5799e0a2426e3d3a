"""org units replica

Revision ID: 8646a31e5448
Revises: 7b47812246b6
Create Date: 2026-12-06 12:16:43.226562
"""

from collections.abc import Sequence

from daiban_common import migration_steps

revision: str = "8646a31e5448"
down_revision: str | None = "7b47812246b6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    migration_steps.create_org_units_replica("audit")


def downgrade() -> None:
    migration_steps.drop_org_units_replica("audit")
