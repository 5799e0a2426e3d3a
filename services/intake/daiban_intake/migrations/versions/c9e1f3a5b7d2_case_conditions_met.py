"""cases keep the conditional materials the applicant said apply

A case accepted before this revision claimed none as far as anyone can tell: an empty list.

Revision ID: c9e1f3a5b7d2
Revises: a4c7e9b2d315
Create Date: 2026-12-06 18:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "c9e1f3a5b7d2"
down_revision: str | None = "a4c7e9b2d315"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "cases",
        sa.Column(
            "conditions_met",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'"),
            nullable=False,
        ),
        schema="intake",
    )


def downgrade() -> None:
    op.drop_column("cases", "conditions_met", schema="intake")
