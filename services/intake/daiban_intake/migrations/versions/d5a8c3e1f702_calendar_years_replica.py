"""calendar years replica: the official schedules routing announces (daiban_common.schedules)

Revision ID: d5a8c3e1f702
Revises: b7d2e4f6a819
Create Date: 2026-12-06 17:00:00.000000
"""

from collections.abc import Sequence

from daiban_common import migration_steps

revision: str = "d5a8c3e1f702"
down_revision: str | None = "b7d2e4f6a819"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    migration_steps.create_calendar_years_replica("intake")


def downgrade() -> None:
    migration_steps.drop_calendar_years_replica("intake")
