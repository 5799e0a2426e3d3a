"""calendar years replica: the official schedules routing announces (daiban_common.schedules)

Revision ID: e6b9d4f2a813
Revises: 3c9f1d2a7e51
Create Date: 2026-12-06 17:00:00.000000
"""

from collections.abc import Sequence

from daiban_common import migration_steps

revision: str = "e6b9d4f2a813"
down_revision: str | None = "3c9f1d2a7e51"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    migration_steps.create_calendar_years_replica("audit")


def downgrade() -> None:
    migration_steps.drop_calendar_years_replica("audit")
