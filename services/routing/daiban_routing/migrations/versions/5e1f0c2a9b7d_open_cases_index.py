"""open cases index for supervision

Revision ID: 5e1f0c2a9b7d
Revises: 40b565bed9ee
Create Date: 2026-12-01 14:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5e1f0c2a9b7d"
down_revision: str | None = "40b565bed9ee"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_routing_cases_open",
        "cases",
        ["case_number"],
        unique=False,
        schema="routing",
        postgresql_where=sa.text("status IN ('assigned', 'in_review', 'paused', 'escalated')"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_routing_cases_open",
        table_name="cases",
        schema="routing",
        postgresql_where=sa.text("status IN ('assigned', 'in_review', 'paused', 'escalated')"),
    )
