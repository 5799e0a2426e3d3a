"""org units replica

Revision ID: 130ff54788ea
Revises: d7ae141e786f
Create Date: 2026-12-06 12:16:39.066810
"""

from collections.abc import Sequence

from daiban_common import migration_steps

revision: str = "130ff54788ea"
down_revision: str | None = "d7ae141e786f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    migration_steps.create_org_units_replica("catalogue")


def downgrade() -> None:
    migration_steps.drop_org_units_replica("catalogue")
