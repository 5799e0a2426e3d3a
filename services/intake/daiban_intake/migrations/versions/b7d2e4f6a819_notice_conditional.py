"""notices list the conditional materials not claimed

A notice issued before this revision told only what was missing; it gets an empty list.

Revision ID: b7d2e4f6a819
Revises: f3a1c2d4e5b6
Create Date: 2026-12-08 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "b7d2e4f6a819"
down_revision: str | None = "f3a1c2d4e5b6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "notices",
        sa.Column(
            "conditional",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'"),
            nullable=False,
        ),
        schema="intake",
    )


def downgrade() -> None:
    op.drop_column("notices", "conditional", schema="intake")
