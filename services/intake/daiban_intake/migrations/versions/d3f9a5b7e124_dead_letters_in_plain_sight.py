"""dead letters in plain sight: status, org, who settled them

Revision ID: d3f9a5b7e124
Revises: d1e5a7c9b3f4
Create Date: 2026-12-06 20:40:00
"""

from collections.abc import Sequence

from daiban_common import migration_steps

revision: str = "d3f9a5b7e124"
down_revision: str | None = "d1e5a7c9b3f4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    migration_steps.dead_letters_in_plain_sight("intake")


def downgrade() -> None:
    migration_steps.dead_letters_out_of_sight("intake")
