"""calendar years replica (daiban_common.schedules); whether a case's deadline may still move

Revision ID: d5a8c3e1f702
Revises: b7d2e4f6a819
Create Date: 2026-12-06 17:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from daiban_common import migration_steps

revision: str = "d5a8c3e1f702"
down_revision: str | None = "b7d2e4f6a819"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    migration_steps.create_calendar_years_replica("intake")
    op.add_column(
        "cases",
        sa.Column("due_date_provisional", sa.Boolean(), server_default=sa.false(), nullable=False),
        schema="intake",
    )


def downgrade() -> None:
    op.drop_column("cases", "due_date_provisional", schema="intake")
    migration_steps.drop_calendar_years_replica("intake")
