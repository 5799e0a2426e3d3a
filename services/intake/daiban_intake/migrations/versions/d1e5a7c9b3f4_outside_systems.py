"""outside systems that push events through the door (ingress), with their HTTP token hashes

Revision ID: d1e5a7c9b3f4
Revises: b8d2f4a6c913
Create Date: 2026-12-06 21:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "d1e5a7c9b3f4"
down_revision: str | None = "b8d2f4a6c913"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outside_systems",
        sa.Column("system", sa.String(length=40), primary_key=True),
        sa.Column("township", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("types", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_by", sa.String(length=200), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=200), nullable=True),
        schema="intake",
    )
    op.create_index(
        "uq_intake_outside_systems_token_hash",
        "outside_systems",
        ["token_hash"],
        unique=True,
        schema="intake",
    )
    op.create_index(
        "ix_intake_outside_systems_township_prefix",
        "outside_systems",
        ["township"],
        schema="intake",
        postgresql_ops={"township": "text_pattern_ops"},
    )


def downgrade() -> None:
    op.drop_table("outside_systems", schema="intake")
